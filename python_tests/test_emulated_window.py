"""No pipe meant to be close-on-exec reaches a child that forks and execs while the emulated pipe2 is between pipe
and fcntl.

The emulated pipe2 (pipe, then fcntl) holds the fork lock that pyos takes before a fork, so that no fork falls
between the two. The extension of the emulated test build (the pyos_pipe2_window tag, pyos/pipe2_window.go) lets
a child process stop its pipe2 there: each pipe2 reports its pipe and waits until released, or until a fork waits
for the fork lock. A thread's pyos.pipe2(O_CLOEXEC) is stopped so, and the main thread execs `ls -l
/proc/self/fd`, whose listing tells whether it inherited the pipe. Through os.fork, and through libc's fork()
called from C (ctypes.PyDLL, the GIL held), which CPython is not told about, the fork waits for the lock, and so
for pipe2 to set FD_CLOEXEC: the child never inherits it. After pyos.install(), os.posix_spawn, os.posix_spawnp
and subprocess (close_fds=False, which spawns with os.posix_spawn) are pyos's and wait likewise. The controls, the
same three before install() and the clone system call, run no fork handlers: the child always inherits it. With
the native pipe2 system call there is no window.
"""

from __future__ import annotations

import json
import os
import select
import sys

import pytest
from support import NO_GIL_DROP_REQUEST, run_python

import pyos

# Only a test build has the hook (release builds, macOS's included, have none): the builds that do say so,
# make py-test-emulated and the workflow's emulated job, with PYOS_PIPE2_WINDOW_BUILD=1.
pytestmark = [
    pytest.mark.skipif(
        pyos.HAVE_NATIVE_PIPE2, reason="pipe2 is the system call here: there is no window between pipe and fcntl"
    ),
    pytest.mark.skipif(
        os.environ.get("PYOS_PIPE2_WINDOW_BUILD") != "1",
        reason="a release build of the emulation, without the pyos_pipe2_window hook of the test builds",
    ),
    pytest.mark.skipif(
        sys.platform != "linux",
        reason="the child's fds are read from /proc/self/fd and the control is Linux's clone system call",
    ),
]

# Run with PYOS_PIPE2_WINDOW=REPORT,RELEASE: argv[1] says how to start the child, argv[2:] are the other ends.
EXEC_IN_THE_WINDOW = (
    NO_GIL_DROP_REQUEST
    + """
import ctypes, json, os, platform, select, sys, threading
import pyos

how, report, release = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if how.startswith("installed "):  # os.posix_spawn and os.posix_spawnp are pyos's from here on
    assert pyos.install() is True
    how = how.removeprefix("installed ")
LS = ["/bin/ls", "-l", "/proc/self/fd"]


def ls_through_fork(out):
    pid = os.fork()
    if pid == 0:
        os.dup2(out, 1)
        os.execv(LS[0], LS)
    return pid


def ls_through_posix_spawn(out):
    return os.posix_spawn(LS[0], LS, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, out, 1)])


def ls_through_posix_spawnp(out):
    return os.posix_spawnp("ls", LS, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, out, 1)])


def ls_through_subprocess(out):
    # close_fds=False and an executable with a directory: subprocess uses os.posix_spawn (_USE_POSIX_SPAWN).
    import subprocess

    assert subprocess._USE_POSIX_SPAWN
    popen = subprocess.Popen(LS, stdout=out, close_fds=False)
    popens.append(popen)  # kept: a collected Popen reaps its child, which os.waitpid below then lacks
    return popen.pid


popens = []


# A fork from C: the child runs only C (PyDLL keeps the GIL), as CPython was not told of the fork.
libc = ctypes.PyDLL(None)
LS_ARGV = (ctypes.c_char_p * (len(LS) + 1))(*[arg.encode() for arg in LS], None)
SYS_CLONE, SIGCHLD = {"x86_64": 56, "aarch64": 220}[platform.machine()], 17


def ls_through_c(fork):
    def start(out):
        pid = fork()
        if pid == 0:
            libc.dup2(out, 1)
            libc.execv(LS_ARGV[0], LS_ARGV)
            libc._exit(127)
        return pid
    return start


STARTS = {
    "os.fork": ls_through_fork,
    "os.posix_spawn": ls_through_posix_spawn,
    "os.posix_spawnp": ls_through_posix_spawnp,
    "subprocess": ls_through_subprocess,
    "libc fork": ls_through_c(libc.fork),
    # the clone system call itself, which runs no pthread_atfork handler
    "raw clone": ls_through_c(lambda: libc.syscall(SYS_CLONE, SIGCHLD, 0, 0, 0, 0)),
}


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
pid = STARTS[how](out_w)
os.close(out_w)
with os.fdopen(out_r) as out:
    listing = out.read()
os.waitpid(pid, 0)
os.write(release, b"x")
maker.join()
assert made == [r, w], (made, r, w)
print(json.dumps({"inherited": pipe in listing, "cloexec_after": not os.get_inheritable(r)}))
"""
)


def exec_while_pyos_pipe2_is_between_pipe_and_fcntl(how: str) -> dict[str, bool]:
    """What the child inherited, whether the pipe was close-on-exec after pipe2, and whether the window took the
    release byte, which the script writes once the child has listed its fds: a window that the fork ended had left
    before the byte came; a window that nothing ended waited for it and took it, and one that never waited left it
    unread whatever the fork did."""
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
        release_taken = not select.select([release_r], [], [], 0)[0]
    finally:
        for fd in fds:
            os.close(fd)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    result: dict[str, bool] = json.loads(proc.stdout)
    return {**result, "release_taken": release_taken}


@pytest.mark.parametrize("how", ["os.fork", "libc fork"])
def test_a_fork_waits_for_pyos_pipe2_to_set_close_on_exec(how):
    assert exec_while_pyos_pipe2_is_between_pipe_and_fcntl(how) == {
        "inherited": False,
        "cloexec_after": True,
        "release_taken": False,
    }


@pytest.mark.parametrize("how", ["os.posix_spawn", "os.posix_spawnp", "subprocess"])
def test_after_install_a_spawn_waits_for_pyos_pipe2_to_set_close_on_exec(how):
    assert exec_while_pyos_pipe2_is_between_pipe_and_fcntl(f"installed {how}") == {
        "inherited": False,
        "cloexec_after": True,
        "release_taken": False,
    }


@pytest.mark.parametrize("how", ["os.posix_spawn", "os.posix_spawnp", "subprocess", "raw clone"])
def test_control_a_child_started_without_the_fork_handlers_inherits_the_pipe(how):
    assert exec_while_pyos_pipe2_is_between_pipe_and_fcntl(how) == {
        "inherited": True,
        "cloexec_after": True,
        "release_taken": True,
    }
