"""pyos.posix_spawn and pyos.posix_spawnp: os's, called in the fork gate where pipe2 is emulated, os's own where
it is the system call; the same signature, results and exceptions as os's; and the gate never hangs a process,
also when the spawn's arguments run Python code that forks or makes a pipe while other threads fork."""

from __future__ import annotations

import inspect
import os

import pytest
from support import run_python

import pyos

SPAWNS = ["posix_spawn", "posix_spawnp"]
TRUE = "/bin/true"


@pytest.mark.parametrize("name", SPAWNS)
def test_os_own_where_pipe2_is_native_else_gated(name):
    spawn, os_spawn = getattr(pyos, name), getattr(os, name)
    if pyos.HAVE_NATIVE_PIPE2:
        assert spawn is os_spawn
    else:
        assert spawn is not os_spawn and spawn.__wrapped__ is os_spawn
        assert (spawn.__module__, spawn.__name__, spawn.__doc__) == ("pyos", name, os_spawn.__doc__)


# Where pipe2 is the system call, pyos's spawns are os's own (test_os_own_where_pipe2_is_native_else_gated): held to
# os's, they would be compared with themselves, and pass whatever os's did.
gated_only = pytest.mark.skipif(
    pyos.HAVE_NATIVE_PIPE2,
    reason="pyos.posix_spawn is os.posix_spawn where pipe2 is native (test_os_own_where_pipe2_is_native_else_gated)",
)


@gated_only
@pytest.mark.parametrize("name", SPAWNS)
def test_signature_is_os(name):
    try:
        expected = inspect.signature(getattr(os, name))
    except ValueError:  # CPython versions whose os.posix_spawn has no signature inspect can read
        with pytest.raises(ValueError):
            inspect.signature(getattr(pyos, name))
    else:
        assert inspect.signature(getattr(pyos, name)) == expected


def outcome(spawn, *args, **kwargs):
    try:
        pid = spawn(*args, **kwargs)
    except Exception as exc:
        return type(exc), str(exc), exc.args
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


CASES = [
    ((TRUE, [TRUE], os.environ), {}),
    (("true", ["true"], {"PATH": os.environ.get("PATH", os.defpath)}), {}),
    ((TRUE, [TRUE], {}), {"setsigmask": [1, 2]}),
    ((TRUE, [TRUE], {}), {"file_actions": [(os.POSIX_SPAWN_CLOSE, 99)]}),
    (("/nonexistent/x", ["x"], {}), {}),
    ((TRUE, [], {}), {}),
    ((TRUE, [TRUE]), {}),
    ((TRUE, [TRUE], None), {}),
    ((TRUE, [TRUE], {}), {"nosuch": 1}),
    ((1, [TRUE], {}), {}),
    ((TRUE, TRUE, {}), {}),
    ((), {}),
]


@gated_only
@pytest.mark.parametrize("name", SPAWNS)
@pytest.mark.parametrize(("args", "kwargs"), CASES, ids=[repr(case)[:60] for case in CASES])
def test_results_and_exceptions_are_os(name, args, kwargs):
    expected = outcome(getattr(os, name), *args, **kwargs)
    assert outcome(getattr(pyos, name), *args, **kwargs) == expected


# A spawn whose argument runs Python code: that code forks, makes a pipe, or lets another thread fork (with the
# GIL held while the fork waits for the fork lock), all while the spawn is in the fork gate.
GATE_REENTERED = """
import os, sys, threading, pyos
what = sys.argv[1]

class Path:
    def __fspath__(self):
        if what == "fork":
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
        elif what == "pipe2":
            for fd in pyos.pipe2(pyos.O_CLOEXEC):
                os.close(fd)
        elif what == "thread forks":
            def fork():
                pid = os.fork()
                if pid == 0:
                    os._exit(0)
                os.waitpid(pid, 0)
            thread = threading.Thread(target=fork)
            thread.start()
            thread.join()
        return "/bin/true"

pid = pyos.posix_spawn(Path(), ["true"], {})
_, status = os.waitpid(pid, 0)
r, w = pyos.pipe2(pyos.O_CLOEXEC)  # the gate is open again
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.parametrize("what", ["fork", "pipe2", "thread forks"])
def test_python_code_in_a_spawn_forks_and_makes_pipes_without_a_hang(what):
    proc = run_python(GATE_REENTERED, what, options=["-W", "ignore::DeprecationWarning"], timeout=60)
    assert (proc.stdout, proc.stderr) == ("0\n", "")


def test_spawns_and_forks_in_threads_do_not_hang():
    # Threads spawn through pyos and fork through os while others make pipes: the gate lets them through together.
    proc = run_python(
        """
        import os, threading, pyos
        def spawn():
            for _ in range(100):
                os.waitpid(pyos.posix_spawn("/bin/true", ["true"], {}), 0)
        def fork():
            for _ in range(100):
                pid = os.fork()
                if pid == 0:
                    os._exit(0)
                os.waitpid(pid, 0)
        def pipes():
            for _ in range(2000):
                for fd in pyos.pipe2(pyos.O_CLOEXEC | pyos.O_NONBLOCK):
                    os.close(fd)
        threads = [threading.Thread(target=f) for f in (spawn, spawn, fork, pipes, pipes)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print("ok")
        """,
        options=["-W", "ignore::DeprecationWarning"],
        timeout=120,
    )
    assert (proc.stdout, proc.stderr) == ("ok\n", "")
