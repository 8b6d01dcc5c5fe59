"""pipe2 as a drop-in for os.pipe2, implemented in Go.

``pyos.pipe2(flags)`` takes the same argument, returns the same value and raises
the same exceptions as ``os.pipe2(flags)``. pipe2 and pipe are builtins of the
extension ``_pyosgo``, written in C as CPython's posixmodule writes os.pipe2 and
os.pipe (extension/pyos_module.c in the source tree), over the Go package
github.com/pyos-project/pyos/pyos. A process forked from this one never enters
Go: the extension serves it with the system calls themselves.
"""

import os as _os
import sys

_TYPE_CHECKING = False
if _TYPE_CHECKING:
    from typing import Final

    from ._install import install
    from ._spawn import posix_spawn, posix_spawnp

_LIMITS = "/proc/self/limits"
_STAT = "/proc/self/stat"
# vsize, the 23rd field of /proc/self/stat (the address space in use in bytes), counted
# from the state, the field after the name.
_VSIZE = 20
# The free address space below which Go's start is refused: with less, Go adapts its
# reservations and then fails, early or late (docs/performance.md has the measurements).
_ADDRESS_SPACE_NEEDED = 2 << 30
_MiB = 1 << 20


def _check_address_space_limit() -> None:
    """Raise ImportError where RLIMIT_AS leaves Go's runtime too little address space to start."""
    if not _address_space_may_be_limited():
        return
    import resource

    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    if limit == resource.RLIM_INFINITY:
        return
    in_use = _address_space_in_use()
    if limit - in_use < _ADDRESS_SPACE_NEEDED:
        raise ImportError(
            f"pyos cannot start Go's runtime under this address-space limit: RLIMIT_AS (ulimit -v) is "
            f"{limit // _MiB} MiB and this process already uses {in_use // _MiB} MiB of it, but Go reserves "
            f"about 1.6 GiB of address space (not memory) as it starts, and pyos needs "
            f"{_ADDRESS_SPACE_NEEDED // _MiB} MiB free. Raise the limit (ulimit -v unlimited, or "
            "resource.setrlimit(resource.RLIMIT_AS, ...)) before importing pyos."
        )


def _address_space_may_be_limited() -> bool:
    """False where /proc/self/limits gives RLIMIT_AS's soft limit as unlimited, the usual case, which then costs no
    import of resource; True otherwise."""
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


def _read_small(path: str, size: int = 1024) -> bytes:
    # os.open and os.read: open()'s file objects cost the import several times the system calls themselves.
    # os.open's fds are non-inheritable (PEP 446; O_CLOEXEC where the OS has it) without the flag.
    fd = _os.open(path, _os.O_RDONLY)
    try:
        return _os.read(fd, size)
    finally:
        _os.close(fd)


# Loading the extension starts Go's runtime, which reserves a large range of address space at once (not memory: its
# heap's page summaries and arena index). A Go runtime that cannot reserve it dies with the whole process, so the
# load is refused, with an ImportError, where RLIMIT_AS leaves too little room. These functions are here, not in a
# module of their own, which would cost the import more than they do (docs/performance.md).
_check_address_space_limit()

from . import _pyosgo  # noqa: E402
from ._pyosgo import pipe, pipe2  # noqa: E402

__all__ = [
    "HAVE_NATIVE_PIPE2",
    "O_CLOEXEC",
    "O_DIRECT",
    "O_NONBLOCK",
    "__version__",
    "fork",
    "install",
    "pipe",
    "pipe2",
    "posix_spawn",
    "posix_spawnp",
]

__version__: str = _pyosgo.__version__


# os.fork itself: the extension keeps the child out of Go and its at-fork hook keeps
# Go's own threads from triggering CPython's multi-threading warning, and being
# the very same function keeps CPython's warning, when other threads do exist,
# pointing at the caller's line rather than at pyos.
fork = _os.fork

#: True where pipe2 is the pipe2 system call; False where pyos emulates it with
#: pipe and fcntl under a fork lock (macOS, or a build with the pyos_emulate tag).
HAVE_NATIVE_PIPE2: "Final[bool]" = _pyosgo.HAVE_NATIVE_PIPE2

# Typed as os types its constants. (Quoted: typing is not imported at run time.)
O_NONBLOCK: "Final[int]" = _pyosgo.O_NONBLOCK
O_CLOEXEC: "Final[int]" = _pyosgo.O_CLOEXEC
# O_DIRECT exists where pipe2 has packet mode, which only Linux's pipe2 system call
# offers; the Go package says where that is, and the extension has it where it is.
# The test of sys.platform, by that name, tells type checkers that it is Linux
# only, as typeshed says of os.O_DIRECT.
if sys.platform == "linux" and hasattr(_pyosgo, "O_DIRECT"):
    O_DIRECT: "Final[int]" = _pyosgo.O_DIRECT
else:
    __all__.remove("O_DIRECT")


def __getattr__(name: str) -> object:
    # install, posix_spawn and posix_spawnp are imported on first use: most programs use neither, and their
    # modules were a sixth of what pyos's Python adds to the import.
    if name not in ("install", "posix_spawn", "posix_spawnp"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value: object = getattr(import_module("._install" if name == "install" else "._spawn", __name__), name)
    globals()[name] = value
    return value
