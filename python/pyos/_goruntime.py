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

What CPython 3.12+ counts (get_number_of_os_threads in Modules/posixmodule.c): on
Linux the num_threads field of /proc/self/stat; on macOS the Mach task's threads
(task_for_pid, task_threads), Go's among them, and Go does not name them, so
there Go's own count of its threads tells them apart. Where that count fails (no
/proc, another OS), CPython counts only the threads of the threading module,
which Go's never are.
"""

import os
import resource
import sys

GO_THREAD_NAME = "pyos-go"
_GO_COMM = GO_THREAD_NAME.encode() + b"\n"
_OWN_THREAD_NAME = "/proc/thread-self/comm"
_TASKS = "/proc/self/task"
_STAT = "/proc/self/stat"
# Which OS's count the judgement mirrors; a seam, so that tests run the macOS path on Linux.
_PLATFORM = sys.platform
# vsize, the 23rd field of /proc/self/stat (the address space in use in bytes), counted
# from the state, the field after the name.
_VSIZE = 20


# The free address space below which Go's start is refused: with less, Go adapts its
# reservations and then fails, early or late (docs/performance.md has the measurements).
ADDRESS_SPACE_NEEDED = 2 << 30
_MiB = 1 << 20


def check_address_space_limit() -> None:
    """Raise ImportError where RLIMIT_AS leaves Go's runtime too little address space to start."""
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


def _address_space_in_use() -> int:
    try:
        return int(_read_small(_STAT).rpartition(b")")[2].split()[_VSIZE])
    except (OSError, IndexError):
        return 0  # no /proc: the whole limit is taken for free


def load_extension() -> None:
    """Import pyos._pyosgo, starting the Go runtime with its threads named GO_THREAD_NAME."""
    check_address_space_limit()
    own_name = None  # the name to give back, once GO_THREAD_NAME is given
    try:
        with open(_OWN_THREAD_NAME) as f:
            name = f.read().rstrip("\n")
        with open(_OWN_THREAD_NAME, "w") as f:
            f.write(GO_THREAD_NAME)
        own_name = name
    except OSError:  # no /proc: Go's threads stay unnamed and are counted as foreign
        pass
    try:
        from . import _pyosgo  # noqa: F401  (loading it starts Go)
    finally:
        if own_name is not None:
            with open(_OWN_THREAD_NAME, "w") as f:
                f.write(own_name)


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
    counted = _linux_thread_count()
    if counted <= 0:
        return 0, 0
    try:
        tids = os.listdir(_TASKS)
    except OSError:
        return counted, 0
    go_threads = 0
    for tid in tids:
        try:
            go_threads += _read_small(f"{_TASKS}/{tid}/comm") == _GO_COMM
        except FileNotFoundError:  # the thread has exited since the listing
            continue
    return counted, go_threads


def _linux_thread_count() -> int:
    """num_threads of /proc/self/stat as CPython reads it: the 20th space-separated word of the first 159 bytes
    (so a name with a space shifts it, as it does CPython's), through atoi; 0 where that fails. Under qemu-user
    that counts the program's own threads, where /proc/self/task also lists qemu's."""
    try:
        words = [word for word in _read_small(_STAT)[:159].split(b" ") if word]
    except OSError:
        return 0
    if len(words) < 20:
        return 0
    digits = words[19]
    end = 0
    while end < len(digits) and digits[end : end + 1].isdigit():
        end += 1
    return int(digits[:end]) if end else 0


def _mach_thread_count() -> int:
    """The count of the Mach task's threads that CPython makes on macOS, from the extension; 0 where it fails."""
    from . import _pyosgo

    return _pyosgo._mach_thread_count()


def _go_thread_count() -> int:
    """The OS threads the Go runtime owns (runtime/metrics /sched/threads/total:threads), from the extension."""
    from . import _pyosgo

    return _pyosgo._go_thread_count()


def _read_small(path: str) -> bytes:
    # os.open and os.read: the before-fork hook reads these on every fork, and
    # open()'s file objects cost several times the system calls themselves.
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 1024)
    finally:
        os.close(fd)
