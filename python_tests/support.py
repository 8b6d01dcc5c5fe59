"""Helpers shared by the pyos tests and scripts: the reference pipe2 (os.pipe2, or CPython's os.pipe2 as modelled
where os has none), the conformance table, fd bookkeeping, outcome capture for side-by-side comparison, and the
seed example's run."""

from __future__ import annotations

import errno
import fcntl
import importlib.util
import inspect
import json
import operator
import os
import posix
import signal
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

LINUX = sys.platform == "linux"
# PYOS_TEST_WITHOUT_OS_PIPE2=1 runs the tests as macOS's CPython has os, without pipe2 and O_DIRECT: this module,
# which conftest.py and the child processes that rely on os.pipe2 import first, takes them out of os and posix.
WITHOUT_OS_PIPE2 = os.environ.get("PYOS_TEST_WITHOUT_OS_PIPE2") == "1"
HIDDEN_OS_NAMES = ("pipe2", "O_DIRECT")


def hide_os_pipe2() -> None:
    """Take pipe2 and O_DIRECT out of os (and posix, its source), as CPython on macOS has neither."""
    for module in (os, posix):
        for name in HIDDEN_OS_NAMES:
            if name in vars(module):
                delattr(module, name)
    for name in HIDDEN_OS_NAMES:
        if name in os.__all__:
            os.__all__.remove(name)


if WITHOUT_OS_PIPE2:
    hide_os_pipe2()

ROOT = Path(__file__).resolve().parents[1]
SEED_EXAMPLE = ROOT / "examples" / "seed_example.py"
# For a script whose main thread forks from C (ctypes.PyDLL) while another thread may wait for the GIL: the child
# runs bytecode with its parent's GIL state, as CPython is not told of the fork, and had that thread asked for the
# GIL (after the switch interval), the child would wait forever for the thread, which it lacks, to take it. The
# interval is made longer than any test.
NO_GIL_DROP_REQUEST = "import sys; sys.setswitchinterval(1000)"
# Set by scripts/dist.py where it runs the tests under qemu-user, whose system calls are qemu's emulation.
UNDER_QEMU_USER = os.environ.get("PYOS_QEMU_USER") == "1"
# conftest.py's mypy_strict fixture: mypy --strict on a file, for a platform.
MypyStrict = Callable[[Path, str], "subprocess.CompletedProcess[str]"]
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


def names_os_lacks(case: dict[str, Any]) -> list[str]:
    """The flag names of a case that os does not have here (O_DIRECT, Linux's, on macOS)."""
    return [name for name in case["flags"] if not hasattr(os, name)] if isinstance(case.get("flags"), list) else []


def table_ints() -> list[int]:
    """Every int flag value of the table that os can name here."""
    return [arg for arg in (table_argument(c) for c in TABLE if not names_os_lacks(c)) if type(arg) is int]


# CPython's METH_O builtins' messages (Objects/methodobject.c), os.pipe2's since 3.9.
NO_KEYWORDS = "posix.pipe2() takes no keyword arguments"
ONE_ARGUMENT = "posix.pipe2() takes exactly one argument ({} given)"
# The C int converter's (_PyLong_AsInt, PyLong_AsInt from 3.13), and 3.9's Argument Clinic check for a float.
C_INT_OVERFLOW = "Python int too large to convert to C int"
FLOAT_BEFORE_3_10 = "integer argument expected, got float"
INT_FALLBACK_BEFORE_3_10 = (
    "an integer is required (got type {}).  Implicit conversion to integers using __int__ is deprecated,"
    " and may be removed in a future version of Python."
)
# The flags a pipe2 takes where the system has no packet mode (macOS; the table's expect_emulated).
FLAGS_WITHOUT_PACKET_MODE = os.O_NONBLOCK | os.O_CLOEXEC


def modelled_pipe2(*args: object, **kwargs: object) -> tuple[int, int]:
    """CPython's os.pipe2 on a system whose pipes know O_NONBLOCK and O_CLOEXEC only, for where os has no pipe2
    (macOS): its argument handling and messages, and the ends a pipe2 system call would make, or EINVAL.
    test_reference.py holds it to os.pipe2 where os has one, and to the table everywhere."""
    if kwargs:
        raise TypeError(NO_KEYWORDS)
    if len(args) != 1:
        raise TypeError(ONE_ARGUMENT.format(len(args)))
    flags = _as_c_int(args[0])
    if flags & ~FLAGS_WITHOUT_PACKET_MODE:
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
    fds = os.pipe()
    try:
        for fd in fds:
            os.set_inheritable(fd, not flags & os.O_CLOEXEC)
            os.set_blocking(fd, not flags & os.O_NONBLOCK)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return fds


# What introspection shows of os.pipe2: its Argument Clinic signature.
modelled_pipe2.__name__ = modelled_pipe2.__qualname__ = "pipe2"
modelled_pipe2.__text_signature__ = "($module, flags, /)"
modelled_pipe2.__signature__ = inspect.Signature([inspect.Parameter("flags", inspect.Parameter.POSITIONAL_ONLY)])


def _as_c_int(arg: object) -> int:
    """arg converted as CPython converts a C int argument; a warning the conversion gives points at the caller of
    modelled_pipe2, as a builtin's does."""
    if sys.version_info < (3, 10) and isinstance(arg, float):
        raise TypeError(FLOAT_BEFORE_3_10)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = _as_int(arg)
    finally:
        for warning in caught:
            warnings.warn(warning.message, warning.category, stacklevel=3)
    if not -(2**31) <= value < 2**31:
        raise OverflowError(C_INT_OVERFLOW)
    return value


def _as_int(arg: object) -> int:
    if sys.version_info < (3, 10) and not hasattr(type(arg), "__index__"):
        # 3.9's C int conversion falls back to __int__, and warns once that has given an int.
        if not hasattr(type(arg), "__int__"):
            raise TypeError(f"an integer is required (got type {_tp_name(type(arg))})")
        value = int(arg)  # type: ignore[call-overload]
        warnings.warn(INT_FALLBACK_BEFORE_3_10.format(_tp_name(type(arg))), DeprecationWarning, stacklevel=2)
        return value
    return operator.index(arg)


def _tp_name(cls: type) -> str:
    """The type's name as CPython's messages give it (tp_name): module-qualified for a static type of an extension."""
    heap_type = cls.__flags__ & (1 << 9)  # Py_TPFLAGS_HEAPTYPE: a class made by Python code
    return cls.__name__ if heap_type or cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


# The pipe2 that pyos.pipe2 is compared with: CPython's own where os has it, else the model of it.
OS_PIPE2: Callable[[int], tuple[int, int]] | None = getattr(os, "pipe2", None)
reference_pipe2: Callable[..., tuple[int, int]] = OS_PIPE2 or modelled_pipe2


def is_frame_of_the_model(filename: str) -> bool:
    """Whether a traceback frame is modelled_pipe2's own (a builtin, os.pipe2 has none)."""
    return Path(filename).resolve() == Path(__file__).resolve()


class IndexReturning:
    """An object whose __index__ returns value, whatever it is."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __index__(self) -> Any:
        return self.value

    def __repr__(self) -> str:
        return f"IndexReturning({self.value!r})"


def load_build_module() -> Any:
    """The source tree's build.py, loaded by path: a module named "build" could be PyPI's build package."""
    spec = importlib.util.spec_from_file_location("pyos_gopy_build", ROOT / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    env replaces the environment; code may be indented as a whole. The child runs in a session of its own, so that
    a timeout kills it with everything it forked: a hung grandchild is not left behind."""
    argv = [sys.executable, *options, "-c", textwrap.dedent(code), *args]
    with subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
        pass_fds=pass_fds,
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


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


# The directory that lists a process's own fds, as CPython's _posixsubprocess reads it: Linux's /proc, macOS's devfs.
FD_DIR = "/proc/self/fd" if LINUX else "/dev/fd"


def open_fds() -> set[int]:
    """The fds open in this process (the listing's own fd is closed again by the time this returns)."""
    fds = {int(name) for name in os.listdir(FD_DIR)}
    return {fd for fd in fds if _is_open(fd)}


def linked_libraries(path: str | Path) -> str:
    """The dynamic loader's listing of the libraries a shared object needs: ldd on Linux, otool -L on macOS."""
    command = ["ldd", str(path)] if LINUX else ["otool", "-L", str(path)]
    return subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True).stdout


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
