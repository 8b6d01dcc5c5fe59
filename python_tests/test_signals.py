"""Signals behave as in a Python without Go, with pyos loaded and used."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from support import run_python

import pyos

SIGPIPE_BIT = 1 << (signal.SIGPIPE - 1)


@pytest.fixture(autouse=True)
def pyos_in_use():
    r, w = pyos.pipe2(pyos.O_CLOEXEC)  # the Go runtime is loaded and has been entered
    os.close(r)
    os.close(w)


def test_sigint_raises_keyboard_interrupt():
    # Python installs its SIGINT handler only where SIGINT is not ignored at start, as it is for a
    # job started in the background; the child takes it as from a terminal, before Go is loaded.
    proc = run_python(
        """
        import os, signal, time
        if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        import pyos
        pyos.pipe2(0)
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(10)
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
        """
    )
    assert proc.stdout.strip() == "KeyboardInterrupt"
    assert proc.returncode == 0, proc.stderr


def test_write_to_broken_pipe_raises_broken_pipe_error():
    r, w = pyos.pipe2(0)
    os.close(r)
    try:
        with pytest.raises(BrokenPipeError):
            os.write(w, b"x")
    finally:
        os.close(w)


def test_alarm_handler_runs():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        deadline = time.monotonic() + 10
        while not fired and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert fired == [signal.SIGALRM]


def test_sigchld_handler_runs():
    fired = []
    previous = signal.signal(signal.SIGCHLD, lambda signum, frame: fired.append(signum))
    try:
        pid = pyos.fork()
        if pid == 0:
            os._exit(0)
        deadline = time.monotonic() + 10
        while not fired and time.monotonic() < deadline:
            time.sleep(0.01)
        os.waitpid(pid, 0)
    finally:
        signal.signal(signal.SIGCHLD, previous)
    assert signal.SIGCHLD in fired


def signal_masks(status: str) -> dict[str, int]:
    return {
        line.split(":")[0]: int(line.split()[1], 16)
        for line in status.splitlines()
        if line.startswith(("SigIgn", "SigBlk"))
    }


@pytest.mark.skipif(sys.platform != "linux", reason="a process's signal masks are read from /proc/self/status")
def test_subprocess_has_sigpipe_neither_ignored_nor_blocked():
    status = subprocess.run(["cat", "/proc/self/status"], stdout=subprocess.PIPE, text=True, check=True).stdout
    masks = signal_masks(status)
    assert set(masks) == {"SigIgn", "SigBlk"}
    assert not masks["SigIgn"] & SIGPIPE_BIT
    assert not masks["SigBlk"] & SIGPIPE_BIT


def test_subprocess_writing_into_a_closed_pipe_dies_of_sigpipe():
    # As by default: were SIGPIPE ignored or blocked in it, its write would fail with EPIPE instead.
    writer = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    writer.stdout.close()
    assert writer.wait(timeout=30) == -signal.SIGPIPE
