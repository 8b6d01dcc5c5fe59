"""`import pyos` changes nothing in the process but what it adds: signals, limits, fds and the rest are as a bare
interpreter has them, and so is what an exec'd program inherits (docs/fork-safety.md lists what does differ: Go's
threads and its memory). A reload or a re-import of pyos in a forked child works, as it does for os."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest
from support import run_python

HERE = Path(__file__).resolve().parent
STATE_SCRIPT = HERE / "process_state.py"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads the process's state from /proc")


def state(*args: str) -> dict[str, object]:
    proc = run_python(STATE_SCRIPT.read_text(), *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return json.loads(proc.stdout)


@pytest.mark.parametrize("soft_nofile", [None, 32])
def test_import_changes_nothing_in_the_process(soft_nofile):
    args = ("--soft-nofile", str(soft_nofile)) if soft_nofile else ()
    bare = state(*args)
    with_pyos = state(*args, "--import-pyos")
    # CPython ignores SIGPIPE, which Go's runtime takes for its own handler as it starts.
    sigpipe = 1 << (signal.SIGPIPE - 1)
    assert int(bare["masks"]["SigIgn"], 16) & sigpipe
    assert int(bare["exec_child"]["masks"]["SigIgn"], 16) & sigpipe
    if soft_nofile:
        assert bare["limits"]["RLIMIT_NOFILE"][0] == soft_nofile
    assert with_pyos == bare


def test_exec_child_gets_sigpipe_ignored():
    # The symptom as a user sees it: `yes` in a pipeline whose reader has gone is told by a write error, not
    # killed by SIGPIPE (an ignored signal stays ignored across exec, a caught one does not).
    proc = run_python("import os, pyos\nos.system('yes | head -c1 >/dev/null')", timeout=30)
    assert proc.returncode == 0
    assert "Broken pipe" in proc.stderr


RELOAD_IN_CHILD = """
import importlib, os, sys
import pyos

def works(module):
    r, w = module.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    os.write(w, b"x")
    ok = os.read(r, 1) == b"x"
    os.close(r)
    os.close(w)
    return ok and module.__version__ == version and module.O_NONBLOCK == os.O_NONBLOCK

version = pyos.__version__
pid = os.fork()
if pid == 0:
    if sys.argv[1] == "reload":
        module = importlib.reload(pyos)
    else:
        for name in [name for name in sys.modules if name == "pyos" or name.startswith("pyos.")]:
            del sys.modules[name]
        module = importlib.import_module("pyos")
        assert module is not pyos
    os._exit(0 if works(module) else 1)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.parametrize("how", ["reload", "re-import"])
def test_pyos_imported_again_in_a_forked_child_works(how):
    proc = run_python(RELOAD_IN_CHILD, how, options=["-W", "ignore::DeprecationWarning"])
    assert proc.stdout.strip() == "0", proc.stderr
    assert proc.stderr == ""
