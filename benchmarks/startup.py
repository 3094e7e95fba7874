"""Start-up time of `iso-social --help` and `iso-social policy validate` (target: < 0.3 s).

Prints the median of several runs of each command next to its target. The package's bytecode is
compiled first, as `pip install` does for a user: an editable install under
PYTHONDONTWRITEBYTECODE=1 (these machines set it) would otherwise compile every module on every
run, a tenth of the start-up.
Run: python benchmarks/startup.py
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "iso-social --help": [sys.executable, "-m", "iso_social", "--help"],
    "iso-social policy validate": [sys.executable, "-m", "iso_social", "policy", "validate"],
}
TARGET_S = 0.3
RUNS = 7


def median_seconds(command: list[str], runs: int = RUNS) -> float:
    """The median time of `runs` runs of `command`, after one warm-up."""
    compileall.compile_dir(Path(__file__).parents[1] / "iso_social", quiet=1)
    subprocess.run(command, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Time each command and print the medians."""
    for name, command in COMMANDS.items():
        median = median_seconds(command)
        verdict = "ok" if median < TARGET_S else "SLOWER THAN TARGET"
        print(f"{name:32s} median {median:.3f} s  (target < {TARGET_S} s)  {verdict}")


if __name__ == "__main__":
    main()
