"""The cross-language table, tests/conformance.json, run against pyos.pipe2 and os.pipe2.

os.pipe2 is held to the native expectation, so the table itself is checked against
CPython; pyos.pipe2 to the expectation of the pipe2 it uses, and, where that is the
native one, to everything os.pipe2 does with the same argument: the ends' states,
or the exception's class, message, args and errno, and the warnings. Where os has no pipe2 (macOS), os.pipe2 is
support.modelled_pipe2, CPython's os.pipe2 as modelled, and the cases of flags os does not have there (O_DIRECT)
are skipped, saying so.
"""

from __future__ import annotations

import builtins
import errno
import json
import os
import sys
from typing import Any

import pytest
from support import (
    TABLE,
    UNDER_QEMU_USER,
    WITHOUT_OS_PIPE2,
    call_and_capture,
    load_table,
    names_os_lacks,
    reference_pipe2,
    table_argument,
)

import pyos

# qemu-user's pipe2 drops the flag bits it does not know instead of failing: scripts/dist.py sets PYOS_QEMU_USER=1
# where it runs the aarch64 wheels' tests under qemu-user, and there these rows' checks of os.pipe2 and pyos.pipe2
# against the table, which are the kernel's behaviour, are skipped. pyos.pipe2 is still compared with os.pipe2.
QEMU_USER_QUIRKS = {
    "junk bit 1<<30": "qemu-user's pipe2 ignores the unknown flag bit 1<<30 where Linux fails with EINVAL",
    "INT_MIN": "qemu-user's pipe2 ignores the unknown flag bit 1<<31 where Linux fails with EINVAL",
}


# Linux's pipe2 flags that CPython's os has on Linux only.
LINUX_ONLY_FLAGS = {"O_DIRECT"}
CASES = [
    pytest.param(
        case,
        id=case["name"],
        marks=pytest.mark.skipif(
            bool(names_os_lacks(case)), reason=f"os has no {' or '.join(names_os_lacks(case))} here: Linux's flag"
        ),
    )
    for case in TABLE
]


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
    expectation: dict[str, Any] = case.get("expect_python") or case["expect"]
    return expectation


def skip_a_quirk_of_qemu_user(case: dict[str, Any]) -> None:
    if UNDER_QEMU_USER and case["name"] in QEMU_USER_QUIRKS:
        pytest.skip(QEMU_USER_QUIRKS[case["name"]])


def pyos_expectation(case: dict[str, Any]) -> dict[str, Any]:
    if not pyos.HAVE_NATIVE_PIPE2 and "expect_emulated" in case:
        return case["expect_emulated"]
    return native_expectation(case)


@pytest.mark.parametrize("case", CASES)
def test_os_pipe2_meets_the_table(case):
    skip_a_quirk_of_qemu_user(case)
    assert_outcome(reference_pipe2, table_argument(case), native_expectation(case))


@pytest.mark.parametrize("case", CASES)
def test_pyos_pipe2_meets_the_table(case):
    skip_a_quirk_of_qemu_user(case)
    assert_outcome(pyos.pipe2, table_argument(case), pyos_expectation(case))


@pytest.mark.parametrize("case", CASES)
def test_pyos_pipe2_does_what_os_pipe2_does(case):
    expected = call_and_capture(reference_pipe2, table_argument(case))
    actual = call_and_capture(pyos.pipe2, table_argument(case))
    if pyos_expectation(case) is native_expectation(case):
        assert actual == expected
    else:  # where pyos emulates pipe2 and the table says so, it fails as a kernel without the flag would
        assert (actual.exc_type, actual.exc_args) == (OSError, (errno.EINVAL, os.strerror(errno.EINVAL)))


def test_the_table_covers_every_combination_of_pipe2s_flags():
    # Of the flags os has here: O_NONBLOCK, O_CLOEXEC and, on Linux, O_DIRECT.
    names = ["O_NONBLOCK", "O_CLOEXEC", *(name for name in LINUX_ONLY_FLAGS if hasattr(os, name))]
    known = sum(getattr(os, name) for name in names)
    ints = [table_argument(case) for case in TABLE if "flags" in case and not names_os_lacks(case)]
    assert len({flags for flags in ints if flags & ~known == 0}) == 2 ** len(names)


def test_the_table_names_only_what_exists():
    names = {name for case in TABLE if isinstance(case.get("flags"), list) for name in case["flags"]}
    lacking = {name for name in names if not hasattr(os, name)}
    assert lacking == (set() if sys.platform == "linux" and not WITHOUT_OS_PIPE2 else LINUX_ONLY_FLAGS)
    assert all(type(getattr(os, name)) is int for name in names - lacking)
    outcomes = [case[key] for case in TABLE for key in ("expect", "expect_python", "expect_emulated") if key in case]
    assert all(type(getattr(errno, o["errno"])) is int for o in outcomes if "errno" in o)
    assert all(issubclass(getattr(builtins, o["exception"]), Exception) for o in outcomes if "exception" in o)
    assert all(len(o) == 1 for o in outcomes), "an outcome is a pipe, an errno or an exception"
    assert all("expect" in case or "expect_python" in case for case in TABLE), "every case says what Python gets"


def test_the_table_has_a_row_for_every_quirk_of_qemu_user():
    assert QEMU_USER_QUIRKS.keys() <= {case["name"] for case in TABLE}


# A table of one case with every key the format has, each of which test_the_loader_rejects_a_misspelt_key misspells.
EVERY_KEY = {
    "about": "",
    "cases": [
        {
            "name": "x",
            "flags": [],
            "python_value": {"bool": False},
            "expect": {"ok": {"nonblock": False, "cloexec": False, "packet": False}},
            "expect_python": {"exception": "TypeError"},
            "expect_emulated": {"errno": "EINVAL"},
        }
    ],
}


@pytest.mark.parametrize(
    "right, wrong",
    [
        ("about", "abuot"),
        ("cases", "case"),
        ("name", "nmae"),
        ("flags", "flag"),
        ("python_value", "python_vaule"),
        ("expect", "expcet"),
        ("expect_python", "expect_pyhton"),
        ("expect_emulated", "expect_emualted"),
        ("ok", "okay"),
        ("errno", "erno"),
        ("exception", "exeption"),
        ("nonblock", "nonblok"),
        ("cloexec", "cloexc"),
        ("packet", "packets"),
        ("bool", "boolean"),
    ],
)
def test_the_loader_rejects_a_misspelt_key(right, wrong):
    text = json.dumps(EVERY_KEY)
    assert load_table(text) == EVERY_KEY["cases"]  # the control: spelt right, it loads
    misspelt = text.replace(f'"{right}"', f'"{wrong}"')
    assert misspelt.count(f'"{wrong}"') == 1
    with pytest.raises(ValueError, match=rf"unknown keys \['{wrong}'\]"):
        load_table(misspelt)
