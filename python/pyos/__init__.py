"""pipe2 as a drop-in for os.pipe2, implemented in Go.

``pyos.pipe2(flags)`` takes the same argument, returns the same value and
raises the same exceptions as ``os.pipe2(flags)``. The work is done by the Go
package github.com/pyos-project/pyos/pyos, reached through a flat gopy binding
(the ``_pyosgo`` extension): an integer in; out, the two fds or a failure as a
negative errno. This module owns everything a Python caller sees: argument handling, the
errno to OSError mapping, and routing: in a process forked from this one, calls
are served by CPython's os module and never enter Go (see _fork).
"""

# Imports are kept few: every module loaded here adds to import time and to the
# memory each fork must copy. _operator is operator's C core, without the module.
import errno as _errno
import os as _os
from _operator import index as _index

from . import _fork
from ._goruntime import load_extension as _load_extension

__all__ = ["HAVE_NATIVE_PIPE2", "O_CLOEXEC", "O_DIRECT", "O_NONBLOCK", "__version__", "fork", "pipe", "pipe2"]

_pyosgo = _load_extension()

__version__: str = _pyosgo.binding_Version()

# The entry points pipe2 and pipe call: Go's, which return (read_fd, write_fd) or
# -errno, until a fork makes this process a child, which must never enter Go again.
_pipe2_fds = _pyosgo.binding_Pipe2
_pipe_fds = _pyosgo.binding_Pipe


def _route_child_to_os() -> None:
    global _pipe2_fds, _pipe_fds
    _pipe2_fds = _fork.child_pipe2_fds
    _pipe_fds = _fork.child_pipe_fds


_fork.install_hooks(_pyosgo, on_child=_route_child_to_os)

# os.fork itself: pyos's at-fork hooks already keep the child out of Go and keep
# Go's own threads from triggering CPython's multi-threading warning, and being
# the very same function keeps CPython's warning, when other threads do exist,
# pointing at the caller's line rather than at pyos.
fork = _os.fork

#: True where pipe2 is the pipe2 system call; False where pyos emulates it with
#: pipe and fcntl under a fork lock (macOS, or a build with the pyos_emulate tag).
HAVE_NATIVE_PIPE2: bool = _fork.native_pipe2

O_NONBLOCK: int = _pyosgo.binding_ONonblock()
O_CLOEXEC: int = _pyosgo.binding_OCloexec()
_o_direct = _pyosgo.binding_ODirect()  # -1 where pipe2 has no packet mode
if _o_direct >= 0:
    O_DIRECT: int = _o_direct
else:
    __all__.remove("O_DIRECT")

_NO_ARGUMENT = object()
# What the binding returns for flags a C int cannot hold: an errno that pipe2 never returns.
_OUTSIDE_C_INT = -_errno.EOVERFLOW


def pipe2(flags: int = _NO_ARGUMENT, /, *args: object, **kwargs: object) -> tuple[int, int]:  # type: ignore[assignment]
    """Create a pipe with flags set atomically on both ends; return (read_fd, write_fd).

    flags can be constructed by ORing together one or more of O_NONBLOCK, O_CLOEXEC
    and, where the OS has it, O_DIRECT. Like os.pipe2, the ends are inheritable
    unless O_CLOEXEC is given.
    """
    # The common call, one plain int, takes the shortest path: the binding checks the
    # C int range, and anything else goes through _checked_flags.
    if type(flags) is int and not (args or kwargs):
        try:
            fds = _pipe2_fds(flags)
        except OverflowError:  # beyond even the binding's 64-bit argument
            fds = _OUTSIDE_C_INT
    else:
        fds = _pipe2_fds(_checked_flags(flags, args, kwargs))
    if type(fds) is tuple:
        return fds
    if fds == _OUTSIDE_C_INT:
        raise OverflowError("Python int too large to convert to C int")
    raise _oserror(-fds)


def pipe(*args: object, **kwargs: object) -> tuple[int, int]:
    """Create a pipe whose ends are not inheritable, as os.pipe does; return (read_fd, write_fd)."""
    if args or kwargs:
        raise _call_error("pipe", "no arguments", len(args), kwargs)
    fds = _pipe_fds()
    if type(fds) is tuple:
        return fds
    raise _oserror(-fds)


def _checked_flags(flags: object, args: tuple[object, ...], kwargs: dict[str, object]) -> int:
    """pipe2's argument, checked and converted as CPython checks a METH_O builtin's C int argument."""
    if args or kwargs or flags is _NO_ARGUMENT:
        raise _call_error("pipe2", "exactly one argument", len(args) + (flags is not _NO_ARGUMENT), kwargs)
    return _as_c_int(flags)


def _oserror(errno: int) -> OSError:
    # OSError(errno, strerror) picks the same subclass that os.pipe2's PyErr_SetFromErrno does.
    return OSError(errno, _os.strerror(errno))


def _call_error(name: str, expected: str, given: int, kwargs: dict[str, object]) -> TypeError:
    """The TypeError CPython raises for a METH_O / METH_NOARGS builtin called wrongly."""
    if kwargs:
        return TypeError(f"pyos.{name}() takes no keyword arguments")
    return TypeError(f"pyos.{name}() takes {expected} ({given} given)")


def _as_c_int(obj: object) -> int:
    """Convert obj as CPython converts an argument to a C int, raising the same errors."""
    try:
        value = _index(obj)  # type: ignore[arg-type]  # any object may come in; index decides
    except TypeError:
        if hasattr(type(obj), "__index__"):
            raise  # __index__ itself failed; CPython propagates the same error
        value = None
    if value is None:
        # Without __index__, let CPython's own C-int converter decide, so that the error
        # is this interpreter's to the letter: 3.9 says "integer argument expected, got
        # float" and accepts __int__ with a DeprecationWarning; 3.10+ rejects both.
        _os.WIFEXITED(obj)  # type: ignore[arg-type]
        value = int(obj)  # type: ignore[call-overload]  # reached on 3.9 only, for __int__-only objects
    if not _fork.C_INT_MIN <= value <= _fork.C_INT_MAX:
        raise OverflowError("Python int too large to convert to C int")
    return value
