"""User-space instructions per call, counted by callgrind: bare CPython, CPython with Go's floor, CPython with pyos.

    python callgrind_count.py [ITERATIONS]

Wall-clock ratios move by several percent from run to run on a shared machine;
callgrind's instruction counts do not. Each figure is a loop of ITERATIONS calls
minus the same script with none, under valgrind, over ITERATIONS: the cost of one
iteration. Three processes, as in pipe2_bench.py:

- bare: os.pipe2(0) + 2 closes, no Go in the process;
- floor: the same with _gofloor (bench/floor/, built by floor.py) loaded, and the
  no-op call into Go, _gofloor.noop() minus _gofloor.c_noop(): the same builtin
  with and without its call of the Go export, so the difference is the C-to-Go
  call alone, by the path pyos's C takes into Go;
- pyos: pyos.pipe2(0) + 2 closes.

The floor of a pipe2 made through Go is os.pipe2's iteration plus the no-op Go
call; pyos's own share is pyos's iteration minus that. Go's asynchronous
preemption is turned off (its signals trip callgrind), and so is hash
randomization: the loop's name lookups probe dicts in an order that depends on
the hash seed. Prints the table, one JSON object, and the verdict against TARGET.
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

import floor

ITERATIONS = 20_000
TARGET = 150  # pyos's own instructions per pipe2 call: pyos's iteration minus os.pipe2's and the no-op Go call

LOOP = """
import os, sys
kind, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "floor":
    import _gofloor
if kind == "pyos":
    import pyos
if name in ("noop", "c_noop"):
    f = getattr(_gofloor, name)
    for _ in range(n):
        f()
else:
    pipe2 = {"os": os.pipe2, "pyos": pyos.pipe2 if kind == "pyos" else None}[name]
    close = os.close
    for _ in range(n):
        r, w = pipe2(0)
        close(r)
        close(w)
"""

# (process, function): the loops counted.
LOOPS = [("bare", "os"), ("floor", "os"), ("floor", "noop"), ("floor", "c_noop"), ("pyos", "pyos"), ("pyos", "os")]


def instructions(script: Path, floor_dir: Path, kind: str, name: str, iterations: int) -> int:
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    env = {**os.environ, "GODEBUG": "asyncpreemptoff=1", "PYTHONHASHSEED": "0", "PYTHONPATH": str(floor_dir)}
    proc = subprocess.run(
        [*valgrind, sys.executable, str(script), kind, name, str(iterations)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    match = re.search(r"Collected : (\d+)", proc.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in callgrind's output:\n{proc.stderr[-2000:]}")
    return int(match[1])


def count(iterations: int) -> dict[str, float]:
    """Instructions per iteration of each loop of LOOPS, keyed 'process/function'."""
    floor_dir = floor.build(sys.executable)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "loop.py"
        script.write_text(LOOP)
        # The empty loop is the same script whatever the function: one per process.
        empty = {kind: instructions(script, floor_dir, kind, "os", 0) for kind in ("bare", "floor", "pyos")}
        return {
            f"{kind}/{name}": (instructions(script, floor_dir, kind, name, iterations) - empty[kind]) / iterations
            for kind, name in LOOPS
        }


def main() -> int:
    if shutil.which("valgrind") is None:
        print("callgrind_count.py: error: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 1
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else ITERATIONS
    per = count(iterations)
    go_call = per["floor/noop"] - per["floor/c_noop"]
    columns = {"bare": per["bare/os"], "floor": per["floor/os"] + go_call, "pyos": per["pyos/pyos"]}
    own = columns["pyos"] - columns["floor"]
    verdict = "met" if own <= TARGET else "MISSED"
    print(
        json.dumps({"iterations": iterations, "per_iteration": per, "go_call": go_call, "columns": columns, "own": own})
    )
    print(f"\nuser-space instructions per pipe2(0) + 2 closes (callgrind, {iterations:,} iterations)")
    print(f"{'':<28} {'bare CPython':>14} {'Go floor':>14} {'pyos':>14}")
    print(f"{'os.pipe2 + 2 closes':<28} {per['bare/os']:>14,.0f} {per['floor/os']:>14,.0f} {per['pyos/os']:>14,.0f}")
    print(f"{'the no-op call into Go':<28} {'':>14} {go_call:>14,.0f}")
    print(f"{'a pipe2 through Go':<28} {'':>14} {columns['floor']:>14,.0f} {columns['pyos']:>14,.0f}")
    print(
        f"pyos's own share: {own:+,.0f} instructions a call (pyos.pipe2 minus os.pipe2 and the no-op Go call; "
        f"target <= {TARGET}): {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
