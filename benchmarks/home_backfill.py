"""Backfill a year of the Home source's outputs into a recorder; print what it costs.

    .venv/bin/python benchmarks/home_backfill.py [--days 365] [--no-tracemalloc] [--profile]

Writes a year of hourly input statistics (grid import and export, solar, battery charge and
discharge, an EV charger), sets up a typed-in tariff, a Carbon Intensity entry (against the
in-process sandbox on 127.0.0.1) and a Home reading them all, then runs the Home's history
once: every output (home consumption, the footprint of grid import, CO2 avoided by export and
by solar, the battery's value and CO2, the charger's cost). Prints the range requests, the
wall time until every row is committed, that time over a recorder-only write of the very
same rows (in the same run), the event loop's largest hold during the Home's run, the time
spent in each part of it and the peak Python memory. Runs through pytest (the test harness
provides the recorder); not part of the test suite: figures to compare, not pass/fail.
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
    parser.add_argument(
        "--no-tracemalloc",
        action="store_true",
        help="time without memory tracing (faster; the loop's holds as in production)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of the Home's run"
    )
    args = parser.parse_args()
    os.environ["ENERGY_HUB_BENCH_DAYS"] = str(args.days)
    os.environ["ENERGY_HUB_BENCH_TRACEMALLOC"] = "0" if args.no_tracemalloc else "1"
    os.environ["ENERGY_HUB_BENCH_PROFILE"] = "1" if args.profile else "0"
    sys.path.insert(0, str(HERE.parent))  # the repository: custom_components, sandbox
    return pytest.main(
        [
            str(HERE / "_home_backfill_run.py"),
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
