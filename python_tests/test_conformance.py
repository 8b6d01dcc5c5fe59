"""The cross-language table, tests/conformance.json, run against pyos.pipe2 and os.pipe2.

os.pipe2 is held to the native expectation, so the table itself is checked against
CPython; pyos.pipe2 to the expectation of the pipe2 it uses, and, where that is the
native one, to everything os.pipe2 does with the same argument: the ends' states,
or the exception's class, message, args and errno, and the warnings.
"""

from __future__ import annotations

import errno
import os
from typing import Any

import pytest
from support import TABLE, UNDER_QEMU_USER, call_and_capture, table_argument

import pyos


def assert_outcome(pipe2, arg: object, want: dict[str, Any]) -> None:
    outcome = call_and_capture(pipe2, arg)
    if "ok" in want:
        assert outcome.ends is not None, f"{pipe2.__module__}.pipe2 raised {outcome.exc_type}: {outcome.exc_message}"
        for end in outcome.ends:
            assert (not end.blocking, not end.inheritable) == (want["ok"]["nonblock"], want["ok"]["cloexec"])
        assert outcome.packets == want["ok"]["packet"]
    elif "errno" in want:
        assert outcome.exc_type is OSError
        assert outcome.errno == getattr(errno, want["errno"])
    else:
        assert outcome.exc_type is not None and outcome.exc_type.__name__ == want["exception"]


def native_expectation(case: dict[str, Any]) -> dict[str, Any]:
    if UNDER_QEMU_USER and "expect_qemu_user" in case:
        return case["expect_qemu_user"]
    return case.get("expect_python") or case["expect"]


def pyos_expectation(case: dict[str, Any]) -> dict[str, Any]:
    if not pyos.HAVE_NATIVE_PIPE2 and "expect_emulated" in case:
        return case["expect_emulated"]
    return native_expectation(case)


@pytest.mark.parametrize("case", TABLE, ids=[c["name"] for c in TABLE])
def test_os_pipe2_meets_the_table(case):
    assert_outcome(os.pipe2, table_argument(case), native_expectation(case))


@pytest.mark.parametrize("case", TABLE, ids=[c["name"] for c in TABLE])
def test_pyos_pipe2_meets_the_table(case):
    assert_outcome(pyos.pipe2, table_argument(case), pyos_expectation(case))


@pytest.mark.parametrize("case", TABLE, ids=[c["name"] for c in TABLE])
def test_pyos_pipe2_does_what_os_pipe2_does(case):
    expected = call_and_capture(os.pipe2, table_argument(case))
    actual = call_and_capture(pyos.pipe2, table_argument(case))
    if pyos_expectation(case) is native_expectation(case):
        assert actual == expected
    else:  # where pyos emulates pipe2 and the table says so, it fails as a kernel without the flag would
        assert (actual.exc_type, actual.exc_args) == (OSError, (errno.EINVAL, os.strerror(errno.EINVAL)))


def test_the_table_covers_every_flag_combination_and_bad_int():
    ints = [table_argument(case) for case in TABLE if "flags" in case]
    assert len({flags for flags in ints if flags & ~(os.O_NONBLOCK | os.O_CLOEXEC | os.O_DIRECT) == 0}) == 8
    assert len(TABLE) >= 29
