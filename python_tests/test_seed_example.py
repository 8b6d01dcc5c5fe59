"""The seed example, ported to pyos, prints what the original's code prints, and nothing on stderr."""

from __future__ import annotations

import sys

import pytest
from support import SEED_EXAMPLE, run_seed_example, seed_example_ok

VARIANTS = {
    "pyos.pipe2 and pyos.fork": {},
    # The drop-in promise: changing only os.pipe2 must be enough.
    "pyos.pipe2 and os.fork": {"pyos.fork()": "os.fork()"},
    # The reference: the example on CPython's own os.
    "os.pipe2 and os.fork": {"pyos.fork()": "os.fork()", "pyos.pipe2(flags)": "os.pipe2(flags)", "import pyos": ""},
}


@pytest.mark.parametrize("replacements", VARIANTS.values(), ids=VARIANTS.keys())
def test_seed_example_output_and_empty_stderr(replacements):
    source = SEED_EXAMPLE.read_text()
    for old, new in replacements.items():
        assert old in source
        source = source.replace(old, new)
    proc = run_seed_example(sys.executable, source)
    assert seed_example_ok(proc), (proc.stdout, proc.stderr)
