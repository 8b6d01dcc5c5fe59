"""Loading the Go extension, and the at-fork hook that keeps Go's threads out of CPython's fork warning.

Loading the extension starts the Go runtime, which reserves a large range of
address space at once (not memory: its heap's page summaries and arena index). A
Go runtime that cannot reserve it dies with the whole process, so the load is
refused, with an ImportError, where RLIMIT_AS leaves too little room.

The Go runtime runs on OS threads of its own, and CPython 3.12+ counts every OS
thread when it decides to warn that fork() in a multi-threaded process may deadlock
the child; Go's threads would trigger that warning on every fork, although pyos
makes sure a forked child never runs Go. The extension marks Go's threads as they
start and judges, before each fork, whether the threads CPython counts are Go's
besides the caller's (extension/go_threads.c); this module registers that judgement
with os.register_at_fork, whose hooks run for every fork CPython makes or is told
about (os.fork, os.forkpty, multiprocessing's 'fork' start method, subprocess with
preexec_fn, C extensions that call PyOS_AfterFork_Child).
"""

import os
import sys

_LIMITS = "/proc/self/limits"
_STAT = "/proc/self/stat"
# vsize, the 23rd field of /proc/self/stat (the address space in use in bytes), counted
# from the state, the field after the name.
_VSIZE = 20
# CPython 3.12+ warns on fork() with threads; 3.12 warns before the after_in_parent hooks run,
# 3.13 after them, so the judgement is a before hook.
_WARNS_ON_FORK_WITH_THREADS = sys.version_info >= (3, 12)


# The free address space below which Go's start is refused: with less, Go adapts its
# reservations and then fails, early or late (docs/performance.md has the measurements).
ADDRESS_SPACE_NEEDED = 2 << 30
_MiB = 1 << 20


def check_address_space_limit() -> None:
    """Raise ImportError where RLIMIT_AS leaves Go's runtime too little address space to start."""
    if not _address_space_may_be_limited():
        return
    import resource

    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    if limit == resource.RLIM_INFINITY:
        return
    in_use = _address_space_in_use()
    if limit - in_use < ADDRESS_SPACE_NEEDED:
        raise ImportError(
            f"pyos cannot start Go's runtime under this address-space limit: RLIMIT_AS (ulimit -v) is "
            f"{limit // _MiB} MiB and this process already uses {in_use // _MiB} MiB of it, but Go reserves "
            f"about 1.6 GiB of address space (not memory) as it starts, and pyos needs "
            f"{ADDRESS_SPACE_NEEDED // _MiB} MiB free. Raise the limit (ulimit -v unlimited, or "
            "resource.setrlimit(resource.RLIMIT_AS, ...)) before importing pyos."
        )


def _address_space_may_be_limited() -> bool:
    """False where /proc/self/limits gives RLIMIT_AS's soft limit as unlimited, the usual case, which then costs no
    import of resource (about 0.4 ms, a sixth of what pyos's Python adds to its import); True otherwise."""
    try:
        limits = _read_small(_LIMITS, 4096)
    except OSError:
        return True
    for line in limits.splitlines():
        if line.startswith(b"Max address space "):
            return line.split()[3:4] != [b"unlimited"]
    return True


def _address_space_in_use() -> int:
    try:
        return int(_read_small(_STAT).rpartition(b")")[2].split()[_VSIZE])
    except (OSError, IndexError):
        return 0  # no /proc: the whole limit is taken for free


_hook_registered = False


def load_extension() -> None:
    """Import pyos._pyosgo, which starts the Go runtime, and register its fork-warning judgement, once:
    importlib.reload(pyos) runs this again."""
    global _hook_registered
    check_address_space_limit()
    from . import _pyosgo

    if _WARNS_ON_FORK_WITH_THREADS and not _hook_registered:
        os.register_at_fork(before=_pyosgo._fork_warning_before)
        _hook_registered = True


def _read_small(path: str, size: int = 1024) -> bytes:
    # os.open and os.read: open()'s file objects cost the import several times the system calls themselves.
    # os.open's fds are non-inheritable (PEP 446; O_CLOEXEC where the OS has it) without the flag.
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)
