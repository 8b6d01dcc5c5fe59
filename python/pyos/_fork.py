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
                    3.12+, silence the multi-threading warning for this fork if
                    Go's runtime threads are the only other threads;
- after_in_parent:  release Go's fork lock;
- after_in_child:   mark the process as a forked child. From then on pyos serves
                    every call with the child_* functions below, which use os only, and
                    never touches Go again, its lock included. Where pyos's pipe2
                    is emulated, so is the child's, under a lock of the child's own
                    that its forks take in place of Go's.

A raw fork() from C that does not call PyOS_AfterFork_Child is not seen; CPython
itself does not support running Python in such a child.
"""

import _thread
import errno
import os
import sys

from ._goruntime import only_go_threads_besides_caller

# typing, threading and warnings are not imported here (warnings only when a fork
# needs it): together they doubled both the import time of pyos and the cost of
# every fork, which copies and unmaps the memory they occupy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

in_child = False
native_pipe2 = True  # set by install_hooks: whether the Go side uses the pipe2 system call
_child_fork_lock = _thread.allocate_lock()
_EMULATED_FLAGS = os.O_NONBLOCK | os.O_CLOEXEC
C_INT_MIN = -(2**31)
C_INT_MAX = 2**31 - 1

# CPython 3.12+ warns in the parent on fork() from a process with more than one
# OS thread: "This process (pid=N) is multi-threaded, use of fork() may lead to
# deadlocks in the child." 3.12 warns before the after_in_parent hooks run, 3.13
# after them, so the filter that silences it stays in place until the next fork's
# before hook decides again; it matches nothing but that warning.
_WARNS_ON_FORK_WITH_THREADS = sys.version_info >= (3, 12)
_FORK_WARNING = r"This process \(pid=\d+\) is multi-threaded, use of \w+\(\) may lead to deadlocks in the child\."

# gopy gives every Go function without results a goRun argument: true runs it as a goroutine.
_ON_THIS_THREAD = False


def child_pipe2_fds(flags: int) -> "tuple[int, int] | int":  # a string: 3.9 cannot evaluate X | Y
    """binding_Pipe2 for a forked child; errors are raised, not returned, but for flags outside a C int."""
    if not C_INT_MIN <= flags <= C_INT_MAX:
        return -errno.EOVERFLOW  # the binding's answer, which pyos.pipe2 turns into os.pipe2's OverflowError
    return _child_pipe2(flags)


def child_pipe_fds() -> tuple[int, int]:
    """binding_Pipe for a forked child: os.pipe; errors are raised, not returned."""
    return os.pipe()


def _child_pipe2(flags: int) -> tuple[int, int]:
    """os.pipe2 itself, so the result and errors are CPython's; or the emulation the Go side uses."""
    if native_pipe2:
        return os.pipe2(flags)
    if flags & ~_EMULATED_FLAGS:
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
    with _child_fork_lock:
        r, w = os.pipe()  # not inheritable from the start
        try:
            for fd in (r, w):
                if not flags & os.O_CLOEXEC:
                    os.set_inheritable(fd, True)
                if flags & os.O_NONBLOCK:
                    os.set_blocking(fd, False)
        except BaseException:
            os.close(r)
            os.close(w)
            raise
    return r, w


class _ForkHooks:
    def __init__(self, go: object, on_child: "Callable[[], None]") -> None:
        self._go = go
        self._on_child = on_child
        self._locked = False
        self._silencing_filter: tuple[object, ...] | None = None

    def before(self) -> None:
        if in_child:
            _child_fork_lock.acquire()
            return
        self._go.binding_BeforeFork(_ON_THIS_THREAD)  # type: ignore[attr-defined]
        self._locked = True
        if _WARNS_ON_FORK_WITH_THREADS:
            import warnings

            self._stop_silencing()
            if only_go_threads_besides_caller():
                # Go's threads are the only others: they never run in the child.
                warnings.filterwarnings("ignore", message=_FORK_WARNING, category=DeprecationWarning)
                self._silencing_filter = warnings.filters[0]

    def _stop_silencing(self) -> None:
        if self._silencing_filter is not None:
            import warnings

            filters = warnings.filters
            for i, entry in enumerate(filters):
                if entry is self._silencing_filter:
                    del filters[i]  # type: ignore[attr-defined]  # typeshed says Sequence; it is the list
                    break
            self._silencing_filter = None

    def after_in_parent(self) -> None:
        if in_child:
            _child_fork_lock.release()
            return
        if self._locked:  # unlocking Go's lock when not held would abort the process
            self._locked = False
            self._go.binding_AfterForkInParent(_ON_THIS_THREAD)  # type: ignore[attr-defined]

    def after_in_child(self) -> None:
        global in_child, _child_fork_lock
        if in_child:  # a grandchild: the lock was taken by the fork that made it
            _child_fork_lock = _thread.allocate_lock()
        in_child = True
        self._on_child()
        # The child has no Go threads: CPython's own judgement applies to its forks.
        self._stop_silencing()
        # The child's copy of Go's lock stays held for good: the child never enters Go,
        # and its own forks must not try to release it.
        self._locked = False


def install_hooks(go: object, on_child: "Callable[[], None]") -> None:
    """Register the at-fork hooks for the loaded extension go; on_child reroutes calls in a forked child."""
    global native_pipe2
    native_pipe2 = bool(go.binding_HaveNativePipe2())  # type: ignore[attr-defined]
    hooks = _ForkHooks(go, on_child)
    os.register_at_fork(before=hooks.before, after_in_parent=hooks.after_in_parent, after_in_child=hooks.after_in_child)
