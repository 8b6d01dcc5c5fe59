"""The cross-language table, tests/conformance.json, run against pyos.pipe2 and os.pipe2.

os.pipe2 is held to the native expectation, so the table itself is checked
against CPython; pyos.pipe2 to the expectation of the pipe2 it uses.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest
from support import call_and_capture

import pyos

TABLE = json.loads((Path(__file__).resolve().parents[1] / "tests" / "conformance.json").read_text())["cases"]
PYTHON_VALUES = {
    "float": float,
    "str": str,
    "bytes": lambda text: text.encode(),
    "none": lambda _: None,
    "list": list,
    "bool": bool,
}


def argument(case: dict[str, Any]) -> object:
    if "python_value" in case:
        ((kind, value),) = case["python_value"].items()
        return PYTHON_VALUES[kind](value)
    if isinstance(case["flags"], list):
        flags = 0
        for name in case["flags"]:
            flags |= getattr(os, name)
        return flags
    return case["flags"]


def assert_outcome(pipe2, arg: object, want: dict[str, Any]) -> None:
    outcome = call_and_capture(pipe2, arg)
    if "ok" in want:
        assert outcome.ends is not None, f"{pipe2.__module__}.pipe2 raised {outcome.exc_type}: {outcome.exc_message}"
        for end in outcome.ends:
            assert (not end.blocking, not end.inheritable) == (want["ok"]["nonblock"], want["ok"]["cloexec"])
        assert outcome.ends[1].fl & os.O_DIRECT == (os.O_DIRECT if want["ok"]["packet"] else 0)
    elif "errno" in want:
        assert outcome.exc_type is OSError
        assert outcome.errno == getattr(errno, want["errno"])
    else:
        assert outcome.exc_type is not None and outcome.exc_type.__name__ == want["exception"]


def native_expectation(case: dict[str, Any]) -> dict[str, Any]:
    return case.get("expect_python") or case["expect"]


@pytest.mark.parametrize("case", TABLE, ids=[c["name"] for c in TABLE])
def test_os_pipe2_meets_the_table(case):
    assert_outcome(os.pipe2, argument(case), native_expectation(case))


@pytest.mark.parametrize("case", TABLE, ids=[c["name"] for c in TABLE])
def test_pyos_pipe2_meets_the_table(case):
    want = native_expectation(case)
    if not pyos.HAVE_NATIVE_PIPE2 and "expect_emulated" in case:
        want = case["expect_emulated"]
    assert_outcome(pyos.pipe2, argument(case), want)
