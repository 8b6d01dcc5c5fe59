"""Helpers shared by the pyos tests and scripts: the conformance table, fd bookkeeping, outcome
capture for side-by-side comparison, and the seed example's run."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
SEED_EXAMPLE = ROOT / "examples" / "seed_example.py"
# Set by scripts/dist.py where it runs the tests under qemu-user, whose system calls are qemu's emulation.
UNDER_QEMU_USER = os.environ.get("PYOS_QEMU_USER") == "1"
SEED_OUTPUT = (ROOT / "examples" / "seed_example.out").read_text()

# The Python values of the table's python_value cases, by kind.
PYTHON_VALUES: dict[str, Callable[[Any], object]] = {
    "float": float,
    "str": str,
    "bytes": lambda text: text.encode(),
    "none": lambda _: None,
    "list": list,
    "bool": bool,
}
# The keys of conformance.json (its "about" says what they mean): of the table, a case, an outcome, an end state.
TABLE_KEYS = {"about", "cases"}
CASE_KEYS = {"name", "flags", "python_value", "expect", "expect_python", "expect_emulated"}
OUTCOME_KEYS = {"ok", "errno", "exception"}
END_STATE_KEYS = {"nonblock", "cloexec", "packet"}


def load_table(text: str) -> list[dict[str, Any]]:
    """The cases of a table in conformance.json's format; a key the format does not have is an error, so that a
    misspelt expectation does not fall back to another."""
    table = json.loads(text)
    _check_keys(table, TABLE_KEYS, "the table")
    for case in table["cases"]:
        where = f"case {case.get('name')!r}"
        _check_keys(case, CASE_KEYS, where)
        _check_keys(case.get("python_value", {}), set(PYTHON_VALUES), f"{where}: python_value")
        for key in ("expect", "expect_python", "expect_emulated"):
            outcome = case.get(key, {})
            _check_keys(outcome, OUTCOME_KEYS, f"{where}: {key}")
            _check_keys(outcome.get("ok", {}), END_STATE_KEYS, f"{where}: {key}: ok")
    cases: list[dict[str, Any]] = table["cases"]
    return cases


def _check_keys(obj: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(obj.keys() - known)
    if unknown:
        raise ValueError(f"conformance.json: {where}: unknown keys {unknown}; known are {sorted(known)}")


TABLE = load_table((ROOT / "tests" / "conformance.json").read_text())


def table_argument(case: dict[str, Any]) -> object:
    """The argument a table case passes to pipe2."""
    if "python_value" in case:
        ((kind, value),) = case["python_value"].items()
        return PYTHON_VALUES[kind](value)
    if isinstance(case["flags"], list):
        flags = 0
        for name in case["flags"]:
            flags |= getattr(os, name)
        return flags
    return case["flags"]


def table_ints() -> list[int]:
    """Every int flag value of the table."""
    return [arg for arg in map(table_argument, TABLE) if type(arg) is int]


class IndexReturning:
    """An object whose __index__ returns value, whatever it is."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __index__(self) -> Any:
        return self.value

    def __repr__(self) -> str:
        return f"IndexReturning({self.value!r})"


def run_python(
    code: str,
    *args: str,
    options: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    pass_fds: Sequence[int] = (),
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run `python [options] -c code args` with this interpreter in a child process, its output captured as text.
    env replaces the environment; code may be indented as a whole."""
    return subprocess.run(
        [sys.executable, *options, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        pass_fds=pass_fds,
        timeout=timeout,
    )


def seed_example_env() -> dict[str, str]:
    """The seed example's environment: a user's, without PYTHONUNBUFFERED, which would make its two processes' lines
    race, or PYTHONPATH."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "PYTHONPATH")}


def run_seed_example(python: str, source: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the seed example (or source, a variant of it) with python, stdout block-buffered as in a pipe."""
    command = [python, "-c", source] if source is not None else [python, str(SEED_EXAMPLE)]
    return subprocess.run(
        command, capture_output=True, text=True, env=seed_example_env(), timeout=timeout, cwd=SEED_EXAMPLE.parent
    )


def seed_example_ok(proc: subprocess.CompletedProcess[str]) -> bool:
    """Whether a run of the seed example printed exactly what it should, and nothing on stderr."""
    return proc.returncode == 0 and proc.stdout == SEED_OUTPUT and proc.stderr == ""


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
    packets: bool | None  # whether two writes are read back one at a time
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
                packets=None,
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
        os.write(result[1], b"ab")
        os.write(result[1], b"cde")
        packets = os.read(result[0], 16) == b"ab"
    finally:
        for fd in result:
            os.close(fd)
    caught_warnings = tuple((w.category, str(w.message)) for w in caught)
    return Outcome(ends, packets, types, None, None, None, None, None, caught_warnings)
