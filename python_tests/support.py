"""Helpers shared by the pyos tests: fd bookkeeping and outcome capture for side-by-side comparison."""

from __future__ import annotations

import fcntl
import os
import warnings
from dataclasses import dataclass
from typing import Any, Callable


def open_fds() -> set[int]:
    """The fds open in this process (the listing's own fd is closed again by the time this returns)."""
    fds = {int(name) for name in os.listdir("/proc/self/fd")}
    return {fd for fd in fds if _is_open(fd)}


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class EndState:
    """What can be observed of one end of a pipe."""

    fl: int
    fd_flags: int
    inheritable: bool
    blocking: bool

    @classmethod
    def of(cls, fd: int) -> EndState:
        return cls(
            fl=fcntl.fcntl(fd, fcntl.F_GETFL),
            fd_flags=fcntl.fcntl(fd, fcntl.F_GETFD),
            inheritable=os.get_inheritable(fd),
            blocking=os.get_blocking(fd),
        )


@dataclass(frozen=True)
class Outcome:
    """The observable result of one call: the ends' states, or the exception; and the warnings."""

    ends: tuple[EndState, EndState] | None
    result_types: tuple[type, ...] | None
    exc_type: type[BaseException] | None
    exc_message: str | None
    exc_args: tuple[Any, ...] | None
    errno: int | None
    strerror: str | None
    warnings: tuple[tuple[type[Warning], str], ...]


def call_and_capture(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
    """Call func, close any pipe it returns, and record everything a caller could observe."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = func(*args, **kwargs)
        except Exception as exc:  # the exception itself is the outcome being compared
            message = str(exc).replace("posix.", "pyos.")
            exc_args = tuple(a.replace("posix.", "pyos.") if isinstance(a, str) else a for a in exc.args)
            return Outcome(
                ends=None,
                result_types=None,
                exc_type=type(exc),
                exc_message=message,
                exc_args=exc_args,
                errno=getattr(exc, "errno", None),
                strerror=getattr(exc, "strerror", None),
                warnings=tuple((w.category, str(w.message)) for w in caught),
            )
    try:
        types = (type(result), *tuple(type(fd) for fd in result))
        ends = (EndState.of(result[0]), EndState.of(result[1]))
    finally:
        for fd in result:
            os.close(fd)
    return Outcome(ends, types, None, None, None, None, None, tuple((w.category, str(w.message)) for w in caught))
