"""CPU time on the event loop per Hoymiles update for the 40-microinverter plant; print it.

    .venv/bin/python benchmarks/hoymiles_update.py [--updates 50] [--profile]

Sets the sandbox's plant 1002 (2 DTUs, 40 microinverters) up in Home Assistant through the
real client, source, coordinator and sensor platform, against the in-process sandbox on
127.0.0.1 (the test harness provides Home Assistant, so this script runs its measurement
through pytest; it is not part of the test suite). Then it runs one update per 5-minute upload
(each with the realtime answer and the microinverters' protobuf chart; every sixth also with
the device tree) and prints the CPU time of the event loop's thread per update (the recorder's
thread is not counted), the part the in-process sandbox spent building its answers, and the
rest: Energy Hub's share (aiohttp, client parsing, source, readings, entity states), which the
target keeps under 20 ms.
Figures to compare, not a pass/fail test.
"""

import argparse
import os
from pathlib import Path
import sys

import pytest

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run the measurement with the number of updates asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    args = parser.parse_args()
    os.environ["ENERGY_HUB_BENCH_PROFILE"] = "1" if args.profile else "0"
    os.environ["ENERGY_HUB_BENCH_UPDATES"] = str(args.updates)
    sys.path.insert(0, str(HERE.parent))  # the repository: custom_components, sandbox
    return pytest.main(
        [
            str(HERE / "_hoymiles_update_run.py"),
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
