"""pyos across fork(): a forked child never enters Go.

A Go runtime does not survive fork without exec: in the child only the forking
thread exists, and any locks Go's other threads held stay locked forever. A child
that calls into Go while the parent's Go was busy hangs (up to 97% of children,
../shared/NOTES.md). So os.register_at_fork hooks, which CPython runs for every
fork it performs or is told about (os.fork, os.forkpty, multiprocessing's 'fork'
start method, subprocess with preexec_fn, and C extensions that call
PyOS_AfterFork_Child), switch a child over to CPython's own primitives:

- before:           take Go's fork lock (syscall.ForkLock, write side), so that no
                    pipe is half made when the process forks; and, on CPython
                    3.12+, silence the multi-threading warning if Go's runtime
                    threads are the only other threads;
- after_in_parent:  release both;
- after_in_child:   mark the process as a forked child. From then on pyos serves
                    every call with the functions below, which use os only, and
                    never touches Go again, its lock included.

A raw fork() from C that does not call PyOS_AfterFork_Child is not seen; CPython
itself does not support running Python in such a child.
"""

from __future__ import annotations

import os
import sys
import warnings

from ._goruntime import count_threads_not_go

in_child = False

# CPython 3.12+ warns in the parent on fork() from a process with more than one
# OS thread: "This process (pid=N) is multi-threaded, use of fork() may lead to
# deadlocks in the child."
_WARNS_ON_FORK_WITH_THREADS = sys.version_info >= (3, 12)
# gopy gives every Go function without results a goRun argument: true runs it as a goroutine.
_ON_THIS_THREAD = False

_FORK_WARNING = r"This process \(pid=\d+\) is multi-threaded, use of \w+\(\) may lead to deadlocks in the child\."


def child_pipe2(flags: int) -> tuple[int, int]:
    """pipe2 for a forked child: os.pipe2 itself, so the result and errors are CPython's."""
    return os.pipe2(flags)


def child_pipe() -> tuple[int, int]:
    return os.pipe()


class _ForkHooks:
    def __init__(self, go: object) -> None:
        self._go = go
        self._locked = False
        self._silencer: warnings.catch_warnings | None = None

    def before(self) -> None:
        if in_child:
            return
        self._go.binding_BeforeFork(_ON_THIS_THREAD)  # type: ignore[attr-defined]
        self._locked = True
        # With no other thread about, changing the warning filters cannot race anyone.
        if _WARNS_ON_FORK_WITH_THREADS and count_threads_not_go() <= 1:
            self._silencer = warnings.catch_warnings()
            self._silencer.__enter__()
            warnings.filterwarnings("ignore", message=_FORK_WARNING, category=DeprecationWarning)

    def _restore_warnings(self) -> None:
        if self._silencer is not None:
            self._silencer.__exit__(None, None, None)
            self._silencer = None

    def after_in_parent(self) -> None:
        self._restore_warnings()
        if self._locked:  # unlocking Go's lock when not held would abort the process
            self._locked = False
            self._go.binding_AfterForkInParent(_ON_THIS_THREAD)  # type: ignore[attr-defined]

    def after_in_child(self) -> None:
        global in_child
        self._restore_warnings()
        in_child = True


def install_hooks(go: object) -> None:
    """Register the at-fork hooks for the loaded extension go."""
    hooks = _ForkHooks(go)
    os.register_at_fork(before=hooks.before, after_in_parent=hooks.after_in_parent, after_in_child=hooks.after_in_child)
