"""The seed example, ported to pyos, prints what the original's code prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "seed_example.py"
PARENT_LINES = ["Parent process is writing", "Written text: Hello child process"]
CHILD_LINES = ["", "Child Process is reading", "Read text: Hello child process"]
# Block-buffered stdout: each process writes its lines at exit, the child's first
# because the parent waits for it. Unbuffered, the two could interleave mid-line.
BUFFERED_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def run_example(source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", source],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=30,
        env=BUFFERED_ENV,
    )


def assert_seed_output(stdout: str) -> None:
    assert stdout.splitlines() == CHILD_LINES + PARENT_LINES


def test_seed_example_with_pyos_prints_the_examples_output():
    proc = run_example(EXAMPLE.read_text())
    assert proc.returncode == 0, proc.stderr
    assert_seed_output(proc.stdout)


def test_seed_example_prints_the_same_with_os_pipe2():
    # The drop-in claim: swapping pyos.pipe2 back to os.pipe2 changes nothing visible.
    source = EXAMPLE.read_text()
    assert "pyos.pipe2(flags)" in source
    proc = run_example(source.replace("pyos.pipe2(flags)", "os.pipe2(flags)"))
    assert proc.returncode == 0, proc.stderr
    assert_seed_output(proc.stdout)
