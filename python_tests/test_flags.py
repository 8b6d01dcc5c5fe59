"""pyos's flag constants are os's, and pyos.pipe is os.pipe; what flags do is the table's (test_conformance.py)."""

from __future__ import annotations

import os

import pytest
from support import EndState, call_and_capture

import pyos

# Every flag pyos must have, whatever it has: O_DIRECT where pipe2 is native only (the test below says so).
FLAG_NAMES = [
    "O_NONBLOCK",
    "O_CLOEXEC",
    pytest.param(
        "O_DIRECT",
        marks=pytest.mark.skipif(not pyos.HAVE_NATIVE_PIPE2, reason="no packet mode where pipe2 is emulated"),
    ),
]


@pytest.mark.parametrize("name", FLAG_NAMES)
def test_constants_carry_os_values(name):
    assert getattr(pyos, name) == getattr(os, name)
    assert type(getattr(pyos, name)) is int


def test_o_direct_is_offered_exactly_where_pipe2_is_native():
    # Packet mode is Linux's pipe2 system call's; the emulation cannot offer it.
    assert hasattr(pyos, "O_DIRECT") == pyos.HAVE_NATIVE_PIPE2
    assert ("O_DIRECT" in pyos.__all__) == pyos.HAVE_NATIVE_PIPE2


def test_pipe_matches_os_pipe_non_inheritable_and_blocking():
    expected = call_and_capture(os.pipe)
    actual = call_and_capture(pyos.pipe)
    assert actual == expected
    assert actual.ends is not None and actual.packets is False
    for end in actual.ends:
        assert end == EndState(fl=end.fl, fd_flags=end.fd_flags, inheritable=False, blocking=True)
