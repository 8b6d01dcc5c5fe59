"""Every flag combination gives ends in the same state as os.pipe2's."""

from __future__ import annotations

import itertools
import os

import pytest
from support import EndState, call_and_capture

import pyos

# O_DIRECT only where pyos's pipe2 offers packet mode: Linux's pipe2 system call, not the emulation.
FLAG_NAMES = [name for name in ("O_NONBLOCK", "O_CLOEXEC", "O_DIRECT") if hasattr(pyos, name)]
COMBINATIONS = [c for n in range(len(FLAG_NAMES) + 1) for c in itertools.combinations(FLAG_NAMES, n)]


def flags_of(names):
    value = 0
    for name in names:
        value |= getattr(pyos, name)
    return value


@pytest.mark.parametrize("name", FLAG_NAMES)
def test_constants_carry_os_values(name):
    assert getattr(pyos, name) == getattr(os, name)
    assert type(getattr(pyos, name)) is int


def test_o_direct_is_offered_exactly_where_pipe2_is_native():
    assert hasattr(pyos, "O_DIRECT") == pyos.HAVE_NATIVE_PIPE2
    assert ("O_DIRECT" in pyos.__all__) == pyos.HAVE_NATIVE_PIPE2


def test_every_combination_is_covered():
    assert len({flags_of(c) for c in COMBINATIONS}) == (8 if pyos.HAVE_NATIVE_PIPE2 else 4)


def test_emulation_rejects_o_direct_like_any_unknown_flag():
    # os.pipe2 accepts O_DIRECT; the emulation cannot honour it, so it says EINVAL as a
    # kernel without packet pipes would. Natively, pyos accepts it as os.pipe2 does.
    expected = call_and_capture(os.pipe2, os.O_DIRECT)
    actual = call_and_capture(pyos.pipe2, os.O_DIRECT)
    if pyos.HAVE_NATIVE_PIPE2:
        assert actual == expected
    else:
        assert (actual.exc_type, actual.exc_args) == (OSError, (22, "Invalid argument"))


@pytest.mark.parametrize("names", COMBINATIONS, ids=lambda c: "|".join(c) or "0")
def test_both_ends_match_os_pipe2(names):
    flags = flags_of(names)
    expected = call_and_capture(os.pipe2, flags)
    actual = call_and_capture(pyos.pipe2, flags)
    assert expected.ends is not None and actual.ends is not None
    assert actual == expected
    read_end, write_end = actual.ends
    for end in (read_end, write_end):
        assert end.inheritable == ("O_CLOEXEC" not in names)
        assert end.blocking == ("O_NONBLOCK" not in names)
    assert read_end.fl & os.O_ACCMODE == os.O_RDONLY
    assert write_end.fl & os.O_ACCMODE == os.O_WRONLY


def test_pipe_matches_os_pipe_non_inheritable_and_blocking():
    expected = call_and_capture(os.pipe)
    actual = call_and_capture(pyos.pipe)
    assert actual == expected
    assert actual.ends is not None
    for end in actual.ends:
        assert end == EndState(fl=end.fl, fd_flags=end.fd_flags, inheritable=False, blocking=True)


def test_returned_fds_are_a_working_pipe():
    r, w = pyos.pipe2(0)
    try:
        assert os.write(w, b"through") == 7
        assert os.read(r, 100) == b"through"
    finally:
        os.close(r)
        os.close(w)


@pytest.mark.parametrize("pipe2", [os.pipe2, pyos.pipe2], ids=["os", "pyos"])
def test_o_direct_keeps_packet_boundaries(pipe2):
    if pipe2 is pyos.pipe2 and not pyos.HAVE_NATIVE_PIPE2:
        with pytest.raises(OSError):
            pipe2(os.O_DIRECT | os.O_NONBLOCK)
        return
    r, w = pipe2(os.O_DIRECT | os.O_NONBLOCK)
    try:
        for packet in (b"ab", b"cde", b"f"):
            os.write(w, packet)
        assert [os.read(r, 100) for _ in range(3)] == [b"ab", b"cde", b"f"]
        with pytest.raises(BlockingIOError):
            os.read(r, 100)
    finally:
        os.close(r)
        os.close(w)


def test_without_o_direct_writes_merge():
    # The control for the packet test: without O_DIRECT, a read returns both writes at once.
    r, w = pyos.pipe2(0)
    try:
        os.write(w, b"ab")
        os.write(w, b"cde")
        assert os.read(r, 100) == b"abcde"
    finally:
        os.close(r)
        os.close(w)
