"""posix_spawn and posix_spawnp that no emulated pipe2 is split by.

posix_spawn runs no pthread_atfork handler, so the fork lock that keeps every fork
from falling between an emulated pipe2's pipe and its fcntl does not cover it, and a
spawned program could inherit an end meant to be close-on-exec. Where pipe2 is
emulated, pyos's posix_spawn and posix_spawnp are os's, called in the extension's
fork gate (extension/pyos_module.c); where pipe2 is the system call, they are os's
own.
"""

import os

from . import _pyosgo

_TYPE_CHECKING = False
if _TYPE_CHECKING:
    from typing import Callable, TypeVar

    _Spawn = TypeVar("_Spawn", bound=Callable[..., int])


def _in_fork_gate(spawn: "_Spawn") -> "_Spawn":
    def in_fork_gate(*args: object, **kwargs: object) -> int:
        result: int = _pyosgo._call_in_fork_gate(spawn, *args, **kwargs)
        return result

    # os's name and doc, and, through __wrapped__, its signature for inspect (functools.wraps, without the import).
    in_fork_gate.__name__ = in_fork_gate.__qualname__ = spawn.__name__
    in_fork_gate.__doc__ = spawn.__doc__
    in_fork_gate.__module__ = "pyos"
    in_fork_gate.__wrapped__ = spawn  # type: ignore[attr-defined]
    return in_fork_gate  # type: ignore[return-value]  # called as spawn is


# Whether pyos's posix_spawn and posix_spawnp are not os's own.
GATED = not _pyosgo.HAVE_NATIVE_PIPE2
posix_spawn = _in_fork_gate(os.posix_spawn) if GATED else os.posix_spawn
posix_spawnp = _in_fork_gate(os.posix_spawnp) if GATED else os.posix_spawnp
