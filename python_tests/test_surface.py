"""pyos.pipe2 and pyos.pipe look like os's to introspection, tracebacks, warnings and type checkers.

Where os has no pipe2 (macOS), os.pipe2 is support.modelled_pipe2, CPython's os.pipe2 as modelled: a Python
function, whose own traceback frame is left out (a builtin has none).
"""

from __future__ import annotations

import inspect
import os
import pydoc
import textwrap
import traceback
import types
import warnings
from pathlib import Path

import pytest
from support import IndexReturning, MypyStrict, is_frame_of_the_model, reference_pipe2

import pyos

PAIRS = [(pyos.pipe2, reference_pipe2), (pyos.pipe, os.pipe)]
IDS = ["pipe2", "pipe"]


@pytest.mark.parametrize("mine, reference", PAIRS, ids=IDS)
def test_builtins_of_module_pyos_with_os_signature(mine, reference):
    assert type(mine) is types.BuiltinFunctionType
    assert mine.__module__ == "pyos" and mine.__name__ == reference.__name__
    assert inspect.signature(mine) == inspect.signature(reference)
    assert mine.__text_signature__ == reference.__text_signature__


@pytest.mark.parametrize("mine, reference", PAIRS, ids=IDS)
def test_help_shows_the_signature_of_os(mine, reference):
    def signature_line(func):
        return pydoc.plain(pydoc.render_doc(func)).splitlines()[2]

    assert signature_line(mine) == signature_line(reference)
    assert signature_line(mine).startswith(mine.__name__ + "(")


def caught_in_this_frame(pipe2, arg):
    """The traceback frames and warnings of pipe2(arg), called from this function."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fds = pipe2(arg)
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)
            frames = [(f.filename, f.name) for f in tb if not is_frame_of_the_model(f.filename)]
        else:
            frames = None
            for fd in fds:
                os.close(fd)
    return frames, [(w.category, w.filename, w.lineno) for w in caught]


@pytest.mark.parametrize("arg", [1.5, 2**40, -1, "0"], ids=["float", "too big", "EINVAL", "str"])
def test_tracebacks_hold_no_pyos_frame(arg):
    mine, reference = caught_in_this_frame(pyos.pipe2, arg), caught_in_this_frame(reference_pipe2, arg)
    assert mine == reference
    assert mine[0] == [(__file__, "caught_in_this_frame")]


def test_conversion_warnings_point_at_the_caller():
    # CPython warns when __index__ returns a subclass of int, from the converter, at the caller's line.
    int_subclass = type("IntSubclass", (int,), {})
    mine = caught_in_this_frame(pyos.pipe2, IndexReturning(int_subclass(0)))
    reference = caught_in_this_frame(reference_pipe2, IndexReturning(int_subclass(0)))
    assert mine == reference
    assert [(category, filename) for category, filename, _ in mine[1]] == [(DeprecationWarning, __file__)]


# Each line is checked on its own: mypy --strict must reject exactly the lines it rejects with os.
CALLS = """
    {m}.pipe2()
    {m}.pipe2(flags=0)
    {m}.pipe2(0, 1)
    {m}.pipe2(1.5)
    {m}.pipe2("0")
    {m}.pipe2(None)
    {m}.pipe(1)
    {m}.pipe(flags=0)
    text: str = {m}.pipe2(0)
    a, b, c = {m}.pipe()
    {m}.O_NONBLOCK = 1
    {m}.pipe2(0)
    {m}.pipe2(True)
    {m}.pipe2({m}.O_NONBLOCK | {m}.O_CLOEXEC)
    {m}.pipe2(Flags.X | Flags.Y)
    fds: tuple[int, int] = {m}.pipe2(0)
    r, w = {m}.pipe()
    direct: int = {m}.O_DIRECT
"""


CALL_LINES = textwrap.dedent(CALLS).strip().splitlines()
HEADER = """\
import enum
import os

import pyos


class Flags(enum.IntFlag):
    X = 1
    Y = 2
"""


def mypy_rejected_calls(mypy_strict: MypyStrict, tmp_path: Path, module: str, platform: str) -> set[str]:
    """The lines of CALLS that mypy --strict rejects, written with {m} for the module."""
    calls = CALL_LINES
    header = HEADER.splitlines()
    source = tmp_path / f"uses_{module}_on_{platform}.py"
    source.write_text("\n".join(header + [call.format(m=module) for call in calls]) + "\n")
    proc = mypy_strict(source, platform)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    error_lines = {int(line.split(":")[1]) for line in proc.stdout.splitlines() if ": error: " in line}
    assert error_lines <= set(range(len(header) + 1, len(header) + len(calls) + 1)), proc.stdout
    return {calls[n - len(header) - 1] for n in error_lines}


def test_mypy_strict_accepts_and_rejects_what_it_does_for_os(mypy_strict, tmp_path):
    rejected = mypy_rejected_calls(mypy_strict, tmp_path, "pyos", "linux")
    assert rejected == mypy_rejected_calls(mypy_strict, tmp_path, "os", "linux")
    # Every call before the first right one is wrong, every call after it right.
    assert rejected == set(CALL_LINES[: CALL_LINES.index("{m}.pipe2(0)")])


def test_o_direct_is_typed_linux_only_as_os_types_it(mypy_strict, tmp_path):
    for module in ("pyos", "os"):
        assert "direct: int = {m}.O_DIRECT" in mypy_rejected_calls(mypy_strict, tmp_path, module, "darwin")
        assert "direct: int = {m}.O_DIRECT" not in mypy_rejected_calls(mypy_strict, tmp_path, module, "linux")
