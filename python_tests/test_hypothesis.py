"""pyos.pipe2 and os.pipe2 (where os has none, support.modelled_pipe2) agree on arbitrary integers and objects
(hypothesis, bounded)."""

from __future__ import annotations

import errno
import functools
import operator
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import IndexReturning, call_and_capture, reference_pipe2, table_ints

import pyos

# The table's flag values, combined, mixed with anything else a 32-bit or wider int can hold.
FLAG_BITS = st.sampled_from(sorted(set(table_ints())))
INTS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.lists(FLAG_BITS, max_size=4).map(lambda values: functools.reduce(operator.or_, values, 0)),
    st.integers(min_value=-(2**70), max_value=2**70),
)
OBJECTS = st.one_of(
    INTS,
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=4),
    st.binary(max_size=4),
    st.none(),
    st.complex_numbers(),
    st.lists(st.integers(), max_size=2),
    st.builds(IndexReturning, st.one_of(INTS, st.text(max_size=2), st.floats(), st.booleans())),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OBJECTS)
def test_pyos_pipe2_agrees_with_os_pipe2(value):
    expected = call_and_capture(reference_pipe2, value)
    actual = call_and_capture(pyos.pipe2, value)
    if not pyos.HAVE_NATIVE_PIPE2 and actual.errno == errno.EINVAL and expected.errno != errno.EINVAL:
        # The emulation honours O_NONBLOCK and O_CLOEXEC only. Other bits that the kernel
        # takes (O_DIRECT) or answers otherwise (O_NOTIFICATION_PIPE: ENOPKG) are EINVAL.
        assert expected.exc_type in (None, OSError)
        assert operator.index(value) & ~(os.O_NONBLOCK | os.O_CLOEXEC)  # type: ignore[call-overload]
        return
    assert actual == expected
