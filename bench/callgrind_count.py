"""User-space instructions per pipe2(0) + 2 closes, pyos against os, counted by callgrind.

    python callgrind_count.py [ITERATIONS]

Wall-clock ratios move by several percent from run to run on a shared machine;
callgrind's instruction counts do not. Each side runs a loop of ITERATIONS calls
and the same script with none, under valgrind; the difference over ITERATIONS is
the cost of one iteration. Go's asynchronous preemption is turned off: its
signals trip callgrind, and so is hash randomization: the loop's name lookups
probe dicts in an order that depends on the hash seed. Prints one JSON object
and the verdict against TARGET.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ITERATIONS = 20_000
TARGET = 700  # pyos's instructions above os's, per iteration

LOOP = """
import os, sys
import pyos
pipe2 = {"os": os.pipe2, "pyos": pyos.pipe2}[sys.argv[1]]
close = os.close
for _ in range(int(sys.argv[2])):
    r, w = pipe2(0)
    close(r)
    close(w)
"""


def instructions(script: Path, which: str, iterations: int) -> int:
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    proc = subprocess.run(
        [*valgrind, sys.executable, str(script), which, str(iterations)],
        capture_output=True,
        text=True,
        env={**os.environ, "GODEBUG": "asyncpreemptoff=1", "PYTHONHASHSEED": "0"},
        check=True,
    )
    match = re.search(r"Collected : (\d+)", proc.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in callgrind's output:\n{proc.stderr[-2000:]}")
    return int(match[1])


def main() -> int:
    if shutil.which("valgrind") is None:
        print("callgrind_count.py: error: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 1
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else ITERATIONS
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "loop.py"
        script.write_text(LOOP)
        per_iteration = {
            which: (instructions(script, which, iterations) - instructions(script, which, 0)) / iterations
            for which in ("os", "pyos")
        }
    above = per_iteration["pyos"] - per_iteration["os"]
    verdict = "met" if above <= TARGET else "MISSED"
    print(json.dumps({"iterations": iterations, "per_iteration": per_iteration, "pyos_above_os": above}))
    print(f"pyos.pipe2: {above:,.0f} user-space instructions per call above os.pipe2 (target <= {TARGET:,}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
