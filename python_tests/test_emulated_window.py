"""No pipe meant to be close-on-exec reaches a child that forks and execs while the emulated pipe2 is between pipe
and fcntl.

The emulated pipe2 (pipe, then fcntl) holds the fork lock that pyos takes before a fork, so that no fork falls
between the two. The extension of the emulated test build (the pyos_pipe2_window tag, pyos/pipe2_window.go) lets
a child process stop its pipe2 there: each pipe2 reports its pipe and waits until released, or until a fork waits
for the fork lock. A thread's pyos.pipe2(O_CLOEXEC) is stopped so, and the main thread execs `ls -l
/proc/self/fd`, whose listing tells whether it inherited the pipe: through os.fork, which waits for the lock and so
for pipe2 to set FD_CLOEXEC, it never does; through os.posix_spawn, the control, which runs no fork handlers, it
always does. With the native pipe2 system call there is no window.
"""

from __future__ import annotations

import json
import os

import pytest
from support import run_python

import pyos

pytestmark = pytest.mark.skipif(
    pyos.HAVE_NATIVE_PIPE2, reason="pipe2 is the system call here: there is no window between pipe and fcntl"
)

# Run with PYOS_PIPE2_WINDOW=REPORT,RELEASE: argv[1] says how to start the child, argv[2:] are the other ends.
EXEC_IN_THE_WINDOW = """
import json, os, select, sys, threading
import pyos

how, report, release = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
LS = ["/bin/ls", "-l", "/proc/self/fd"]


def ls_through_fork(out):
    pid = os.fork()
    if pid == 0:
        os.dup2(out, 1)
        os.execv(LS[0], LS)
    return pid


def ls_through_posix_spawn(out):
    return os.posix_spawn(LS[0], LS, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, out, 1)])


made = []
done_r, done_w = os.pipe()


def make_pipe():
    made.extend(pyos.pipe2(pyos.O_CLOEXEC))
    os.write(done_w, b"x")


maker = threading.Thread(target=make_pipe)
maker.start()
ready, _, _ = select.select([report, done_r], [], [])
if report not in ready:
    sys.exit("pyos.pipe2 did not stop between pipe and fcntl: this build lacks the pyos_pipe2_window tag")
r, w = map(int, os.read(report, 64).split())
pipe = f"pipe:[{os.fstat(r).st_ino}]"
out_r, out_w = os.pipe()
pid = {"os.fork": ls_through_fork, "os.posix_spawn": ls_through_posix_spawn}[how](out_w)
os.close(out_w)
with os.fdopen(out_r) as out:
    listing = out.read()
os.waitpid(pid, 0)
os.write(release, b"x")
maker.join()
assert made == [r, w], (made, r, w)
print(json.dumps({"inherited": pipe in listing, "cloexec_after": not os.get_inheritable(r)}))
"""


def exec_while_pyos_pipe2_is_between_pipe_and_fcntl(how: str) -> dict[str, bool]:
    report_r, report_w = os.pipe()
    release_r, release_w = os.pipe()
    fds = (report_r, report_w, release_r, release_w)
    try:
        proc = run_python(
            EXEC_IN_THE_WINDOW,
            how,
            str(report_r),
            str(release_w),
            options=["-W", "ignore:This process:DeprecationWarning"],  # the fork, with the maker thread running
            env={**os.environ, "PYOS_PIPE2_WINDOW": f"{report_w},{release_r}"},
            pass_fds=fds,
        )
    finally:
        for fd in fds:
            os.close(fd)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    result: dict[str, bool] = json.loads(proc.stdout)
    return result


def test_a_fork_waits_for_pyos_pipe2_to_set_close_on_exec():
    assert exec_while_pyos_pipe2_is_between_pipe_and_fcntl("os.fork") == {"inherited": False, "cloexec_after": True}


def test_control_a_child_spawned_without_the_hooks_inherits_the_pipe():
    assert exec_while_pyos_pipe2_is_between_pipe_and_fcntl("os.posix_spawn") == {
        "inherited": True,
        "cloexec_after": True,
    }
