"""pyos across fork(): the at-fork hooks that CPython runs.

A Go runtime does not survive fork without exec: in the child only the forking
thread exists, and any locks Go's other threads held stay locked, so a child that
calls into Go can hang for good. The extension keeps every forked child out of Go
on its own (extension/pyos_module.c): a pthread_atfork handler marks the child, of
any fork, and the child's pipe2 and pipe are served by the system calls.

Where pipe2 is emulated, the same handler holds Go's fork lock (syscall.ForkLock) across every fork, so
that no fork splits an emulated pipe2 from its flags.

What needs CPython's fork machinery is registered here with os.register_at_fork,
whose hooks run for every fork CPython makes or is told about (os.fork,
os.forkpty, multiprocessing's 'fork' start method, subprocess with preexec_fn,
C extensions that call PyOS_AfterFork_Child): on CPython 3.12+, the judgement
whether CPython's multi-threading warning concerns this fork. Go's runtime
threads never run in the child, so a fork whose only other threads are Go's is
silenced; any other thread keeps the warning.
"""

import os
import sys

from ._goruntime import only_go_threads_besides_caller

# typing, threading and warnings are not imported here (warnings only when a fork
# needs it): together they doubled both the import time of pyos and the cost of
# every fork, which copies and unmaps the memory they occupy.

# CPython 3.12+ warns in the parent on fork() from a process with more than one
# OS thread: "This process (pid=N) is multi-threaded, use of fork() may lead to
# deadlocks in the child." 3.12 warns before the after_in_parent hooks run, 3.13
# after them, so the filters that silence it stay in place until the next fork's
# before hook decides again; they match nothing but that warning.
_WARNS_ON_FORK_WITH_THREADS = sys.version_info >= (3, 12)
_FORK_WARNING = "This process (pid={}) is multi-threaded, use of {}() may lead to deadlocks in the child."
_FORKS = ("fork", "forkpty")  # the calls CPython names in it: os.fork and os.forkpty


class _ForkWarningFilter:
    """Silences CPython's multi-threading fork warning for forks whose only other threads are Go's.

    The filters give the message as plain text, which CPython's warnings module (its C
    part, _warnings, which filters every warning) compares as a whole, as it does its own
    default filters' module names: warnings.filterwarnings would compile a regular
    expression, and matching it against the warning, in the parent after the fork, cost
    a quarter of a fork on 3.12 and 3.13t (measured). The message has this process's pid.

    Only a before hook: whatever Python runs around a fork costs it a copy of every page
    that code writes to, in the parent and in the child. A forked child keeps the filters
    (with its parent's pid, so they match nothing there) until its own next fork's before
    hook, which finds no Go threads in a child and removes them.
    """

    def __init__(self) -> None:
        self._filters: list[tuple[object, ...]] = []

    def before(self) -> None:
        import warnings

        if not only_go_threads_besides_caller():
            self._remove()
            return
        filters = warnings.filters
        ours = self._filters
        if ours and len(filters) >= len(ours) and all(f is o for f, o in zip(filters, ours)):
            return  # first already: left alone, which costs a fork nothing more
        # Put first, or back in front of filters added since. No _filters_mutated: that only
        # empties the registries of warnings already shown, which an ignore filter leaves shown.
        self._remove()
        pid = os.getpid()
        ours = [("ignore", _FORK_WARNING.format(pid, call), DeprecationWarning, None, 0) for call in _FORKS]
        filters[0:0] = ours  # type: ignore[index]  # typeshed says Sequence; it is the list
        self._filters = ours

    def _remove(self) -> None:
        if self._filters:
            import warnings

            filters = warnings.filters
            for entry in self._filters:
                for i, f in enumerate(filters):
                    if f is entry:
                        del filters[i]  # type: ignore[attr-defined]  # typeshed says Sequence; it is the list
                        break
            self._filters = []


_hooks_installed = False


def install_hooks() -> None:
    """Register, on 3.12+, the warning filter's at-fork hook, once: importlib.reload(pyos) runs this again."""
    global _hooks_installed
    if _WARNS_ON_FORK_WITH_THREADS and not _hooks_installed:
        _hooks_installed = True
        os.register_at_fork(before=_ForkWarningFilter().before)
