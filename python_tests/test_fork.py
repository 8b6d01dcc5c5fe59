"""A forked child never enters Go, and pyos adds no fork warning of its own."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support import NO_GIL_DROP_REQUEST, UNDER_QEMU_USER, run_python

import pyos

HERE = Path(__file__).resolve().parent


GUARD_MESSAGE = "pyos: a forked child called into Go, whose runtime does not survive fork; aborting"

# Forks a child in the way argv[1] names, runs argv[2] in it, and prints the child's
# exit code. A raw fork() from C (ctypes) runs none of CPython's at-fork hooks.
FORK_AND_RUN = """
import ctypes, os, sys
sys.path.insert(0, {here!r})
import pyos
from fork_stress import exercise_every_public_function

how, code = sys.argv[1:]
pid = os.fork() if how == "os.fork" else ctypes.PyDLL(None).fork()
if pid == 0:
    exec(code)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


def fork_and_run(how: str, code: str) -> subprocess.CompletedProcess[str]:
    return run_python(FORK_AND_RUN.format(here=str(HERE)), how, code)


@pytest.mark.parametrize("how", ["os.fork", "raw fork"])
def test_forked_child_serves_every_function_without_entering_go(how):
    # Any call into Go in the child would stop it with the guard's message.
    proc = fork_and_run(how, "exercise_every_public_function()" if how == "os.fork" else "pyos.pipe2(0); pyos.pipe()")
    assert proc.stdout.strip() == "0", proc.stderr
    assert GUARD_MESSAGE not in proc.stderr


@pytest.mark.parametrize("how", ["os.fork", "raw fork"])
@pytest.mark.parametrize("call", ["pyos._pyosgo.binding_Version()", "pyos._pyosgo.binding_ONonblock()"])
def test_a_call_into_go_in_a_forked_child_is_stopped_loudly(how, call):
    # The control for the test above: a child that does call into Go, through gopy's
    # wrappers, is stopped at once instead of risking a hang.
    proc = fork_and_run(how, call)
    assert proc.stdout.strip() == str(-signal.SIGABRT)
    assert GUARD_MESSAGE in proc.stderr


def test_a_call_into_go_in_the_parent_is_not_stopped():
    proc = run_python("import os, pyos\nprint(pyos._pyosgo.binding_ONonblock() == os.O_NONBLOCK)")
    assert proc.stdout.strip() == "True" and proc.stderr == ""


def test_fork_stress_no_child_hangs_or_fails():
    proc = subprocess.run(
        [sys.executable, str(HERE / "fork_stress.py"), "500"],
        capture_output=True,
        text=True,
        timeout=900 if UNDER_QEMU_USER else 180,  # fork_stress.DEADLINE's reason
        env={**os.environ, "GOGC": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    expected = {"forks": 500, "ok": 500, "failed": 0, "hung": 0, "stopped": 0, "pool": "ok"}
    assert report == {**report, **expected}, proc.stderr


FORK_SCRIPT = """
import os, sys, threading, time
if "pyos" in sys.argv:
    import pyos
    r, w = pyos.pipe2(os.O_NONBLOCK)
    fork = pyos.fork if "pyos.fork" in sys.argv else os.fork
else:  # os.pipe where os has no pipe2 (macOS): the pipe only makes the process like the one with pyos
    r, w = os.pipe2(os.O_NONBLOCK) if hasattr(os, "pipe2") else os.pipe()
    fork = os.fork
if "thread-later" in sys.argv:  # a first fork with no other thread about
    pid = fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
if "thread" in sys.argv or "thread-later" in sys.argv:
    stop = threading.Event()
    threading.Thread(target=stop.wait).start()
pid = fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
if "thread" in sys.argv or "thread-later" in sys.argv:
    stop.set()
"""


def stderr_of_fork(tmp_path: Path, *args: str) -> str:
    script = tmp_path / "fork_script.py"
    script.write_text(FORK_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), *args], stderr=subprocess.PIPE, text=True, timeout=60, check=True
    )
    return re.sub(r"pid=\d+", "pid=N", proc.stderr)


@pytest.mark.parametrize("fork", ["os.fork", "pyos.fork"])
def test_pyos_adds_no_fork_warning(tmp_path, fork):
    without_pyos = stderr_of_fork(tmp_path)
    assert without_pyos == ""
    assert stderr_of_fork(tmp_path, "pyos", fork) == without_pyos


@pytest.mark.parametrize("threads", ["thread", "thread-later"])
@pytest.mark.parametrize("fork", ["os.fork", "pyos.fork"])
def test_user_threads_still_get_cpythons_fork_warning(tmp_path, fork, threads):
    # Whatever CPython says about a fork with a user thread running (a warning
    # pointing at the fork line on 3.12+, nothing before), it says with pyos too,
    # also after an earlier fork whose warning pyos silenced.
    without_pyos = stderr_of_fork(tmp_path, threads)
    with_pyos = stderr_of_fork(tmp_path, threads, "pyos", fork)
    assert with_pyos == without_pyos
    if sys.version_info >= (3, 12):
        assert "DeprecationWarning: This process (pid=N) is multi-threaded" in with_pyos
        fork_line = FORK_SCRIPT.splitlines().index("pid = fork()") + 1
        assert f"fork_script.py:{fork_line}:" in with_pyos  # the caller's line, not pyos's


@pytest.mark.skipif(
    sys.platform != "linux", reason="threads' names read from /proc/self/task; macOS does not pass them on to Go's"
)
def test_go_threads_are_named_and_only_they():
    names = [Path(f"/proc/self/task/{tid}/comm").read_text().strip() for tid in os.listdir("/proc/self/task")]
    assert "pyos-go" in names
    assert Path("/proc/thread-self/comm").read_text().strip() != "pyos-go"  # the loader's name was restored


def test_fork_is_os_fork():
    assert pyos.fork is os.fork


GATE_LEFT = """
import os, sys, threading, pyos
from pyos import _pyosgo

def fails():
    raise KeyError("inside")

try:
    _pyosgo._call_in_fork_gate(fails)
except KeyError:
    pass
_pyosgo._call_in_fork_gate(_pyosgo._call_in_fork_gate, os.getpid)  # in the gate twice, out twice
# A fork passes the gate as it would with the calls above in progress; a pipe2 of another thread does not.
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
# Had either call left the gate held, this pipe2 would wait for the fork lock for good (this thread, still in
# the gate, would make its pipes without the lock).
made = []
maker = threading.Thread(target=lambda: made.extend(pyos.pipe2(pyos.O_CLOEXEC)))
maker.start()
maker.join()
for fd in made:
    os.close(fd)
print("ok")
"""


def test_python_reaches_the_fork_lock_only_through_the_gate():
    # The fork handlers take the lock for every fork; Python only through _call_in_fork_gate (pyos.posix_spawn's).
    # The lock's Go side has no gopy wrapper, and the fork-warning judgement takes no lock.
    reachable = [name for name in dir(pyos._pyosgo) if re.search("fork|unlock|gate", name, re.IGNORECASE)]
    assert reachable == ["_call_in_fork_gate", "_fork_warning_before"]


@pytest.mark.skipif(
    pyos.HAVE_NATIVE_PIPE2, reason="a native pipe2 takes no fork lock: a lock left held would hang nothing here"
)
def test_the_gate_gives_the_fork_lock_back_however_the_call_ends():
    # An emulated pipe2 takes the lock's read side: had a call left the gate held, it would wait for good.
    proc = run_python(GATE_LEFT, timeout=30)
    assert (proc.stdout, proc.stderr) == ("ok\n", "")


FORKS_FROM_C = f"""
import ctypes, os, sys, threading
import pyos

libc = ctypes.PyDLL(None)  # the GIL held across fork(), which CPython is not told about
{NO_GIL_DROP_REQUEST}
stop = threading.Event()


def make_pipes():
    while not stop.is_set():
        for fd in pyos.pipe2(pyos.O_CLOEXEC):
            os.close(fd)


maker = threading.Thread(target=make_pipes)
maker.start()
statuses = []
for _ in range(3):
    pid = libc.fork()
    if pid == 0:
        libc._exit(0)  # the child runs only C
    statuses.append(os.waitpid(pid, 0)[1])
stop.set()
maker.join()
for fd in pyos.pipe2(0) + os.pipe():
    os.close(fd)
print(statuses)
"""


def test_forks_from_c_take_the_fork_lock_and_give_it_back():
    # pthread_atfork's handlers take Go's fork lock before each fork and release it after: a lock
    # left held would stop the next fork, and the emulated pipe2 of the maker thread, for good.
    proc = run_python(FORKS_FROM_C, options=["-W", "ignore::DeprecationWarning"], timeout=60)
    assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "[0, 0, 0]", "")
