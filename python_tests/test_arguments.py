"""pyos.pipe2 handles every shape of call and every kind of argument object exactly as os.pipe2 does.

Where os has no pipe2 (macOS), os.pipe2 is support.modelled_pipe2, CPython's os.pipe2 as modelled.

The flag values themselves, ints, bools and the other Python values, are the
conformance table's (tests/conformance.json, test_conformance.py); here are the
argument shapes and the objects that only Python has.
"""

from __future__ import annotations

import decimal
import enum
import fractions
import os
import sys

import pytest
from support import IndexReturning, call_and_capture, reference_pipe2

import pyos


class IndexRaising:
    def __index__(self):
        raise ValueError("no index here")


class IntOnly:
    def __int__(self):
        return 0


class IntSubclass(int):
    pass


class Flags(enum.IntFlag):
    NONBLOCK = os.O_NONBLOCK
    CLOEXEC = os.O_CLOEXEC


class WeirdInt(int):
    def __index__(self):  # never called: an int subclass converts without __index__
        raise AssertionError("__index__ called on an int subclass")


# (args, kwargs) that os.pipe2 rejects, each with a name for the test id.
BAD_CALLS = {
    "no argument": ((), {}),
    "two arguments": ((0, 0), {}),
    "three arguments": ((0, 0, 0), {}),
    "keyword": ((), {"flags": 0}),
    "positional and keyword": ((0,), {"flags": 0}),
    "too many and keyword": ((0, 1), {"x": 1}),
    "float zero": ((0.0,), {}),
    "nan": ((float("nan"),), {}),
    "bytearray": ((bytearray(b"0"),), {}),
    "complex": ((1j,), {}),
    "tuple": (((0,),), {}),
    "dict": (({},), {}),
    "object": ((object(),), {}),
    "Decimal": ((decimal.Decimal(0),), {}),
    "Fraction": ((fractions.Fraction(0),), {}),
    "only __int__": ((IntOnly(),), {}),
    "__index__ returns str": ((IndexReturning("0"),), {}),
    "__index__ returns float": ((IndexReturning(0.0),), {}),
    "__index__ raises": ((IndexRaising(),), {}),
    "__index__ returns bool True": ((IndexReturning(True),), {}),
    "__index__ returns too big": ((IndexReturning(2**40),), {}),
    "int subclass -1": ((IntSubclass(-1),), {}),
}

GOOD_CALLS = {
    "IntFlag": ((Flags.NONBLOCK | Flags.CLOEXEC,), {}),
    "int subclass": ((IntSubclass(os.O_CLOEXEC),), {}),
    "int subclass with __index__": ((WeirdInt(os.O_NONBLOCK),), {}),
    "__index__": ((IndexReturning(os.O_NONBLOCK),), {}),
}


# The bad calls CPython 3.9 still accepts, with a DeprecationWarning: objects with __int__ and no __index__.
ACCEPTED_BY_3_9 = {"Decimal", "only __int__"}


def test_os_pipe2_rejects_every_bad_call():
    # The comparison below follows whatever os.pipe2 does; this says the table holds what its name says.
    outcomes = {name: call_and_capture(reference_pipe2, *args, **kwargs) for name, (args, kwargs) in BAD_CALLS.items()}
    accepted = {name for name, outcome in outcomes.items() if outcome.exc_type is None}
    assert accepted == (ACCEPTED_BY_3_9 if sys.version_info < (3, 10) else set())


@pytest.mark.parametrize("args, kwargs", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_input_fails_exactly_as_os_pipe2(args, kwargs):
    expected = call_and_capture(reference_pipe2, *args, **kwargs)
    actual = call_and_capture(pyos.pipe2, *args, **kwargs)
    assert actual == expected


@pytest.mark.parametrize("args, kwargs", GOOD_CALLS.values(), ids=GOOD_CALLS.keys())
def test_good_input_succeeds_exactly_as_os_pipe2(args, kwargs):
    expected = call_and_capture(reference_pipe2, *args, **kwargs)
    actual = call_and_capture(pyos.pipe2, *args, **kwargs)
    assert expected.exc_type is None
    assert actual == expected
    assert actual.result_types == (tuple, int, int)


def test_oserror_is_exactly_oserror_with_errno_and_strerror():
    with pytest.raises(OSError) as info:
        pyos.pipe2(-1)
    assert type(info.value) is OSError
    assert info.value.args == (22, "Invalid argument")
    assert (info.value.errno, info.value.strerror, info.value.filename) == (22, "Invalid argument", None)


@pytest.mark.parametrize(
    "args, kwargs", [((1,), {}), ((), {"x": 1}), ((1, 2), {}), ((), {})], ids=["one", "keyword", "two", "none"]
)
def test_pipe_takes_arguments_exactly_as_os_pipe(args, kwargs):
    expected = call_and_capture(os.pipe, *args, **kwargs)
    actual = call_and_capture(pyos.pipe, *args, **kwargs)
    assert actual == expected


@pytest.mark.parametrize("returned", [os.O_CLOEXEC, "not an int", -1], ids=["valid", "non-int", "einval"])
def test_index_is_called_as_often_as_os_pipe2_calls_it(returned):
    def calls_made(pipe2):
        calls = []

        class Counting:
            def __index__(self):
                calls.append(1)
                return returned

        call_and_capture(pipe2, Counting())
        return len(calls)

    assert calls_made(pyos.pipe2) == calls_made(reference_pipe2) == 1
