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

from ._goruntime import load_extension as _load_extension

_TYPE_CHECKING = False
if _TYPE_CHECKING:
    from typing import Final

    from ._install import install
    from ._spawn import posix_spawn, posix_spawnp

_load_extension()

# After the load, which refuses it where Go's runtime could not start.
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


# os.fork itself: the extension keeps the child out of Go and pyos's at-fork hooks
# keep Go's own threads from triggering CPython's multi-threading warning, and being
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
