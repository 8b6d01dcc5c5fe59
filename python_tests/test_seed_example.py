"""The seed example, ported to pyos, prints what the original's code prints, and nothing on stderr."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import OS_PIPE2, SEED_EXAMPLE, SEED_OUTPUT, run_seed_example, seed_example_env, seed_example_ok

# The runs on CPython's own os.pipe2, which there is not where os has no pipe2 (macOS).
needs_os_pipe2 = pytest.mark.skipif(OS_PIPE2 is None, reason="os has no pipe2 here to run the reference with")
VARIANTS = {
    "pyos.pipe2 and pyos.fork": {},
    # The drop-in promise: changing only os.pipe2 must be enough.
    "pyos.pipe2 and os.fork": {"pyos.fork()": "os.fork()"},
    # The reference: the example on CPython's own os.
    "os.pipe2 and os.fork": {"pyos.fork()": "os.fork()", "pyos.pipe2(flags)": "os.pipe2(flags)", "import pyos": ""},
}


@pytest.mark.parametrize(
    "replacements",
    [
        pytest.param(r, id=name, marks=[needs_os_pipe2] if name.startswith("os.pipe2") else [])
        for name, r in VARIANTS.items()
    ],
)
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


README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("pipe2", ["pyos.pipe2", pytest.param("os.pipe2", marks=needs_os_pipe2)])
def test_the_readmes_example_runs_and_prints_what_the_parent_wrote(pipe2):
    # The README's first Python block, as a user copies it; and with os.pipe2, the reference.
    (example,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)[:1]
    assert "pyos.pipe2(" in example
    proc = run_seed_example(sys.executable, example.replace("pyos.pipe2(", f"{pipe2}("))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "Hello child process\n", "")
