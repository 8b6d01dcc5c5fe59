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
"""

import os
import resource

GO_THREAD_NAME = "pyos-go"
_GO_COMM = GO_THREAD_NAME.encode() + b"\n"
_OWN_THREAD_NAME = "/proc/thread-self/comm"
_TASKS = "/proc/self/task"
_STAT = "/proc/self/stat"
# Fields of /proc/self/stat, counted from the state after the name: num_threads (the
# 20th field) and vsize (the 23rd), the address space in use in bytes.
_NUM_THREADS = 17
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
    """Whether every OS thread of this process but the caller's belongs to the Go runtime.

    The threads are counted where CPython counts them for its warning, in
    /proc/self/stat (under qemu-user that is the program's own threads, where
    /proc/self/task also lists qemu's); Go's threads by name. False where /proc
    cannot tell (not Linux): then no thread is taken for Go's.
    """
    try:
        tids = os.listdir(_TASKS)
        threads = _read_small(_STAT).rpartition(b")")[2].split()[_NUM_THREADS]
    except (OSError, IndexError):
        return False
    go_threads = 0
    for tid in tids:
        try:
            go_threads += _read_small(f"{_TASKS}/{tid}/comm") == _GO_COMM
        except FileNotFoundError:  # the thread has exited since the listing
            continue
    return int(threads) - go_threads <= 1


def _read_small(path: str) -> bytes:
    # os.open and os.read: the before-fork hook reads these on every fork, and
    # open()'s file objects cost several times the system calls themselves.
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 1024)
    finally:
        os.close(fd)
