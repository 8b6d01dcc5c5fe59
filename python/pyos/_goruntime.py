"""Loading the Go extension, and telling its runtime's OS threads from everyone else's.

Loading the extension starts the Go runtime, which reserves a large range of
address space at once (not memory: its heap's page summaries and arena index). A
Go runtime that cannot reserve it dies with the whole process, so the load is
refused, with an ImportError, where RLIMIT_AS leaves too little room.

The Go runtime runs on OS threads of its own.
CPython 3.12+ counts every OS thread when it decides to warn that fork() in a
multi-threaded process may deadlock the child; Go's threads would trigger that
warning on every fork, although pyos makes sure a forked child never runs Go.

Go starts its first thread from the thread that loads the library, and, because
the binding locks the calling thread whenever Python enters Go, every later Go
thread is cloned from a Go thread. Linux threads inherit the name (comm) of the
thread that creates them, so naming the loading thread GO_THREAD_NAME during the
load marks every thread Go will ever have. /proc/self/task then tells them apart.
Reading every thread's name cost about 50 us a fork, so the judgement takes Go's own
count of its threads (runtime/metrics, through the extension) once the names have
confirmed it, and reads the names again whenever that count changes: Go's count runs
ahead of the threads the kernel lists while Go creates one (Go counts it before the
clone) and while one exits (Go stops counting it before it is gone).

What CPython 3.12+ counts (get_number_of_os_threads in Modules/posixmodule.c): on
Linux the num_threads field of /proc/self/stat; on macOS the Mach task's threads
(task_for_pid, task_threads), Go's among them, and Go does not name them, so
there Go's own count of its threads tells them apart. Where that count fails (no
/proc, another OS), CPython counts only the threads of the threading module,
which Go's never are.
"""

import os
import sys

_TYPE_CHECKING = False
if _TYPE_CHECKING:
    from types import ModuleType

GO_THREAD_NAME = "pyos-go"
_GO_COMM = GO_THREAD_NAME.encode() + b"\n"
_OWN_THREAD_NAME = "/proc/thread-self/comm"
_TASKS = "/proc/self/task"
_STAT = "/proc/self/stat"
_LIMITS = "/proc/self/limits"
# Which OS's count the judgement mirrors; a seam, so that tests run the macOS path on Linux.
_PLATFORM = sys.platform
# How much of /proc/self/stat CPython's count reads, and the bytes it looks for there.
_STAT_PREFIX = 159
_SPACE, _DIGIT_0, _DIGIT_9 = b" 09"
# vsize, the 23rd field of /proc/self/stat (the address space in use in bytes), counted
# from the state, the field after the name.
_VSIZE = 20


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


# pyos._pyosgo, once load_extension has imported it: the judgement runs on every fork, and an import statement in a
# function costs more than the call into Go it leads to.
_extension: "ModuleType | None" = None
# (_TASKS, n) once n threads named GO_THREAD_NAME were listed there between two readings of Go's count that both
# gave n (_go_threads_by_name): while Go's count is still n, it is taken without reading the names again.
_go_count_confirmed: "tuple[str, int] | None" = None


def load_extension() -> None:
    """Import pyos._pyosgo, starting the Go runtime with its threads named GO_THREAD_NAME."""
    global _extension
    check_address_space_limit()
    own_name = None  # the name to give back, once GO_THREAD_NAME is given
    try:
        name = _read_small(_OWN_THREAD_NAME).rstrip(b"\n")
        _write_small(_OWN_THREAD_NAME, GO_THREAD_NAME.encode())
        own_name = name
    except OSError:  # no /proc: Go's threads stay unnamed and are counted as foreign
        pass
    try:
        from . import _pyosgo  # (loading it starts Go)

        _extension = _pyosgo
    finally:
        if own_name is not None:
            _write_small(_OWN_THREAD_NAME, own_name)


def only_go_threads_besides_caller() -> bool:
    """Whether CPython's count of this process's OS threads includes Go's, and no other but the caller's.

    True is the one case where CPython's multi-threading fork warning would be about
    Go's threads alone. False where CPython's count does not see Go's threads at all
    (no /proc on Linux, a failed Mach call, another OS: it counts the threading
    module's threads then), so any warning it gives is about the user's threads.
    """
    counted, go_threads = _threads_cpython_counts()
    return go_threads > 0 and counted - go_threads <= 1


def _threads_cpython_counts() -> tuple[int, int]:
    """The number of OS threads CPython counts for its fork warning, and how many of them are Go's; (0, 0) where
    CPython falls back to the threading module's count."""
    if _PLATFORM == "darwin":
        counted = _mach_thread_count()
        return (counted, _go_thread_count()) if counted > 0 else (0, 0)
    if _PLATFORM != "linux":
        return 0, 0
    go_threads = _go_thread_count()  # first: Go counts a thread before it is cloned
    counted = _linux_thread_count()
    if counted <= 0:
        return 0, 0
    if _go_count_confirmed == (_TASKS, go_threads):
        return counted, go_threads
    return counted, _go_threads_by_name(go_threads)


def _go_threads_by_name(go_threads: int) -> int:
    """The threads of /proc/self/task named GO_THREAD_NAME (0 without the list); where they are as many as Go's count
    before and after the listing, that count is confirmed for _threads_cpython_counts."""
    global _go_count_confirmed
    try:
        tids = os.listdir(_TASKS)
    except OSError:
        return 0
    named = 0
    for tid in tids:
        try:
            named += _read_small(f"{_TASKS}/{tid}/comm") == _GO_COMM
        except FileNotFoundError:  # the thread has exited since the listing
            continue
    if named == go_threads == _go_thread_count():
        _go_count_confirmed = (_TASKS, named)
    return named


def _linux_thread_count() -> int:
    """num_threads of /proc/self/stat as CPython reads it: the 20th space-separated word of the first 159 bytes
    (so a name with a space shifts it, as it does CPython's), through atoi; 0 where that fails. Under qemu-user
    that counts the program's own threads, where /proc/self/task also lists qemu's."""
    try:
        line = _read_small(_STAT, _STAT_PREFIX)
    except OSError:
        return 0
    # The words are found in place rather than split out: a page this writes to before a fork is one the parent
    # copies after it, and the split into words and their list cost about 20 page faults a fork (3.12, measured).
    end = len(line)
    start = 0
    for word in range(20):
        while start < end and line[start] == _SPACE:  # as strtok, which skips runs of the separator
            start += 1
        if start == end:
            return 0
        stop = line.find(b" ", start)
        if stop < 0:
            stop = end
        if word < 19:
            start = stop
    digits = start
    while digits < stop and _DIGIT_0 <= line[digits] <= _DIGIT_9:
        digits += 1
    return int(line[start:digits]) if digits > start else 0


def _mach_thread_count() -> int:
    """The count of the Mach task's threads that CPython makes on macOS, from the extension; 0 where it fails."""
    count: int = (_extension or _import_extension())._mach_thread_count()
    return count


def _go_thread_count() -> int:
    """The OS threads the Go runtime owns (runtime/metrics /sched/threads/total:threads), from the extension."""
    count: int = (_extension or _import_extension())._go_thread_count()
    return count


def _import_extension() -> "ModuleType":
    from . import _pyosgo

    return _pyosgo


def _read_small(path: str, size: int = 1024) -> bytes:
    # os.open and os.read: the before-fork hook reads these on every fork, and
    # open()'s file objects cost several times the system calls themselves. os.open's
    # fds are non-inheritable (PEP 446; O_CLOEXEC where the OS has it) without the flag,
    # which is not taken from os here: the import runs this, also where os lacks it.
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def _write_small(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
