"""Backfill a year of Octopus history from the sandbox into a recorder; print the cost.

    .venv/bin/python benchmarks/octopus_backfill.py [--days 365] [--with-gas] [--no-tracemalloc]

Runs the real client, source and statistics writer against the in-process sandbox on
127.0.0.1 and Home Assistant's recorder (the test harness provides one, so this script runs
its measurement through pytest; it is not part of the test suite). Prints the requests made
by endpoint, wall time, peak Python memory and hours written: figures to compare, not a
pass/fail test.
"""

import argparse
import os
from pathlib import Path
import sys

import pytest

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run the measurement with the days asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--with-gas", action="store_true", help="also the gas meter")
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="time without memory tracing (faster)"
    )
    args = parser.parse_args()
    os.environ["ENERGY_HUB_BENCH_DAYS"] = str(args.days)
    os.environ["ENERGY_HUB_BENCH_GAS"] = "1" if args.with_gas else "0"
    os.environ["ENERGY_HUB_BENCH_TRACEMALLOC"] = "0" if args.no_tracemalloc else "1"
    sys.path.insert(0, str(HERE.parent))  # the repository: custom_components, sandbox
    return pytest.main(
        [
            str(HERE / "_octopus_backfill_run.py"),
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(HERE.parent),
            "-o",
            "addopts=",
            "--no-header",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
