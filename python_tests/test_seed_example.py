"""The seed example, ported to pyos, prints what the original's code prints, and nothing on stderr."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support import SEED_EXAMPLE, SEED_OUTPUT, run_seed_example, seed_example_env, seed_example_ok

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


def test_seed_example_on_a_terminal_prints_the_same_lines_in_the_same_order():
    # A terminal makes stdout line-buffered, and the two processes' lines would race.
    for _ in range(5):
        controller, terminal = os.openpty()
        try:
            proc = subprocess.Popen(
                [sys.executable, str(SEED_EXAMPLE)],
                stdout=terminal,
                stderr=terminal,
                cwd=SEED_EXAMPLE.parent,
                env=seed_example_env(),
            )
            os.close(terminal)
            output = b""
            while True:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # EIO: the terminal's other side is closed
                    break
                if not chunk:
                    break
                output += chunk
            assert proc.wait(timeout=30) == 0
        finally:
            os.close(controller)
        assert output.decode().replace("\r\n", "\n") == SEED_OUTPUT


def test_readme_shows_the_example_and_what_it_prints():
    readme = (SEED_EXAMPLE.parents[1] / "README.md").read_text()
    code = SEED_EXAMPLE.read_text()
    assert f"```python\n{code[code.index('import io') :]}```" in readme
    assert f"```\n{SEED_OUTPUT}```" in readme
