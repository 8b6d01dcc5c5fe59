"""A fork made by C code, which CPython is not told about, never splits an emulated pipe2.

Threads make pyos.pipe2(O_CLOEXEC) pipes, with the GIL released, while the main
thread calls libc's fork() directly (through ctypes.PyDLL, the GIL held). The
child looks at its fds at once and reports every one that lacks FD_CLOEXEC; no
pipe was made without the flag, so any such fd is an end caught between pipe and
fcntl. The extension's pthread_atfork handler holds Go's fork lock across the
fork, so with the emulation there is no such end. The control forks with the
clone system call itself, which runs no pthread_atfork handler: with the
emulation it catches ends without their flag; with the native pipe2 there is no
window to catch, handler or not.

A child of a fork that CPython is not told about can hang on CPython's own thread
state, whatever pyos does; such children are killed and not counted: only leaks
judge.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import pyos

HARNESS = r"""
import ctypes, json, os, platform, select, signal, sys, threading, time
import pyos

FORKS, HOW = int(sys.argv[1]), sys.argv[2]
libc = ctypes.PyDLL(None, use_errno=True)  # PyDLL: every call keeps the GIL, in the parent and the child
F_GETFD, FD_CLOEXEC, SIGCHLD = 1, 1, 17
SYS_CLONE = {"x86_64": 56, "aarch64": 220}[platform.machine()]
FD_RANGE = 1024

def unflagged_fds():
    return [fd for fd in range(3, FD_RANGE) if libc.fcntl(fd, F_GETFD) == 0]

def fork():
    if HOW == "libc fork":
        return libc.fork()
    return libc.syscall(SYS_CLONE, SIGCHLD, 0, 0, 0, 0)  # a fork that runs no pthread_atfork handler

before = set(unflagged_fds())
stop = threading.Event()

def make_pipes():
    while not stop.is_set():
        r, w = pyos.pipe2(os.O_CLOEXEC)
        os.close(r)
        os.close(w)

threads = [threading.Thread(target=make_pipes) for _ in range(3)]
for t in threads:
    t.start()
leaks = finished = hung = 0
for _ in range(FORKS):
    report_r, report_w = os.pipe()
    pid = fork()
    if pid == 0:
        caught = sum(fd not in before and fd not in (report_r, report_w) for fd in unflagged_fds())
        libc.write(report_w, bytes([min(caught, 255)]), 1)
        libc._exit(0)
    os.close(report_w)
    ready, _, _ = select.select([report_r], [], [], 2)
    report = os.read(report_r, 1) if ready else b""
    os.close(report_r)
    if report:
        finished += 1
        leaks += report[0]
    else:
        hung += 1
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
stop.set()
for t in threads:
    t.join()
print(json.dumps({"finished": finished, "leaks": leaks, "hung": hung}))
"""


def race(how: str, forks: int) -> dict[str, int]:
    proc = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", HARNESS, str(forks), how],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, int] = json.loads(proc.stdout)
    assert result["finished"] >= forks // 2, result  # enough children reported to judge
    return result


def test_a_fork_from_c_never_splits_a_pipe2_from_its_flags():
    assert race("libc fork", 300)["leaks"] == 0


@pytest.mark.skipif(pyos.HAVE_NATIVE_PIPE2, reason="the native pipe2 has no window between pipe and fcntl")
def test_control_a_fork_that_runs_no_handler_catches_emulated_ends_without_their_flag():
    assert race("raw clone", 50)["leaks"] > 0


@pytest.mark.skipif(not pyos.HAVE_NATIVE_PIPE2, reason="the emulation's window is what the control shows")
def test_control_the_native_pipe2_leaks_to_no_fork_at_all():
    assert race("raw clone", 300)["leaks"] == 0
