"""No pipe meant to be close-on-exec reaches a child that forks and execs, whichever pipe2 pyos uses.

Threads create pyos.pipe2(O_CLOEXEC) pipes while the main thread runs os.fork()
and os.execv of `ls /proc/self/fd`, whose output tells which fds it inherited.
With the emulated pipe2 (pipe, then fcntl), only the fork lock that pyos's at-fork
hooks take keeps a fork out of the window between the two; the control starts the
children with os.posix_spawn, which runs none of CPython's at-fork hooks, and
shows the window is real. With the native pipe2 system call there is no window at
all, lock or not.
"""

from __future__ import annotations

import os
import threading
from typing import Callable

import pytest

import pyos

FORKS = 400
PIPE_MAKERS = 3

# The race forks while the test's own threads run: CPython 3.12+ rightly warns on every fork.
pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


def fds_of_forked_child() -> set[str]:
    """The fds that `ls /proc/self/fd` inherits through os.fork and os.execv."""
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(out_w, 1)
        os.execv("/bin/ls", ["ls", "/proc/self/fd"])
    return listing_of(pid, out_r, out_w)


def fds_of_spawned_child() -> set[str]:
    """The same through os.posix_spawn, for which CPython runs no at-fork hooks."""
    out_r, out_w = os.pipe()
    pid = os.posix_spawn("/bin/ls", ["ls", "/proc/self/fd"], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, out_w, 1)])
    return listing_of(pid, out_r, out_w)


def listing_of(pid: int, out_r: int, out_w: int) -> set[str]:
    os.close(out_w)
    with os.fdopen(out_r) as out:
        listing = out.read()
    os.waitpid(pid, 0)
    return set(listing.split())


def race(forks: int, fds_of_execd_child: Callable[[], set[str]]) -> list[str]:
    baseline = fds_of_execd_child()
    stop = threading.Event()

    def make_pipes() -> None:
        while not stop.is_set():
            r, w = pyos.pipe2(pyos.O_CLOEXEC)
            os.close(r)
            os.close(w)

    makers = [threading.Thread(target=make_pipes) for _ in range(PIPE_MAKERS)]
    for t in makers:
        t.start()
    leaked: list[str] = []
    try:
        for _ in range(forks):
            leaked.extend(sorted(fds_of_execd_child() - baseline))
    finally:
        stop.set()
        for t in makers:
            t.join()
    return leaked


def test_close_on_exec_pipes_never_reach_an_execd_child():
    assert race(FORKS, fds_of_forked_child) == []


def test_control_children_spawned_without_the_hooks():
    leaked = race(FORKS, fds_of_spawned_child)
    if pyos.HAVE_NATIVE_PIPE2:
        assert leaked == []  # pipe2(2) is atomic: nothing to guard
    else:
        assert leaked, f"{FORKS} fork+exec without the lock leaked nothing: the race test could not fail"
