"""The seed example, ported to pyos, prints what the original's code prints, and nothing on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE = EXAMPLES / "seed_example.py"
# Block-buffered stdout: each process writes its lines at exit, the child's first
# because the parent waits for it. Unbuffered, the two could interleave mid-line.
BUFFERED_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}

VARIANTS = {
    "pyos.pipe2 and pyos.fork": {},
    # The drop-in promise: changing only os.pipe2 must be enough.
    "pyos.pipe2 and os.fork": {"pyos.fork()": "os.fork()"},
    # The reference: the example on CPython's own os.
    "os.pipe2 and os.fork": {"pyos.fork()": "os.fork()", "pyos.pipe2(flags)": "os.pipe2(flags)", "import pyos": ""},
}


@pytest.mark.parametrize("replacements", VARIANTS.values(), ids=VARIANTS.keys())
def test_seed_example_output_and_empty_stderr(replacements):
    source = EXAMPLE.read_text()
    for old, new in replacements.items():
        assert old in source
        source = source.replace(old, new)
    proc = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=30,
        env=BUFFERED_ENV,
    )
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert proc.stdout == (EXAMPLES / "seed_example.out").read_text()
