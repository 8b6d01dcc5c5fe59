"""support.modelled_pipe2, the os.pipe2 that pyos.pipe2 is compared with where os has none (macOS), is os.pipe2.

Where os has pipe2 (Linux), the model does exactly what os.pipe2 does with every call of the other tests but the
flags only Linux's pipe2 takes, and shows the same signature; everywhere, it meets the table's expectation for a
pipe2 without packet mode. So the comparisons on macOS are with CPython's os.pipe2, as measured on Linux.
"""

from __future__ import annotations

import errno
import inspect
import operator
import os
import pydoc
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from support import (
    FLAGS_WITHOUT_PACKET_MODE,
    OS_PIPE2,
    TABLE,
    WITHOUT_OS_PIPE2,
    IndexReturning,
    call_and_capture,
    modelled_pipe2,
    reference_pipe2,
    run_python,
    table_argument,
)
from test_arguments import BAD_CALLS, GOOD_CALLS
from test_conformance import CASES, assert_outcome, skip_a_quirk_of_qemu_user
from test_hypothesis import OBJECTS

# The model against os's own: on Linux, unless PYOS_TEST_WITHOUT_OS_PIPE2=1 took it away.
needs_os_pipe2 = pytest.mark.skipif(
    OS_PIPE2 is None, reason="os has no pipe2 here to hold the model to (Linux runs these)"
)


def test_the_reference_is_os_pipe2_wherever_os_has_it():
    assert reference_pipe2 is (OS_PIPE2 if OS_PIPE2 is not None else modelled_pipe2)
    assert (OS_PIPE2 is None) == (WITHOUT_OS_PIPE2 or not hasattr(os, "pipe2"))
    if WITHOUT_OS_PIPE2:
        assert "pipe2" not in os.__all__ and not hasattr(os, "O_DIRECT")


def test_a_child_that_imports_support_sees_os_as_this_process_does():
    # The child processes that rely on os.pipe2 import support, and PYOS_TEST_WITHOUT_OS_PIPE2 reaches them.
    code = """
        import os, sys
        sys.path.insert(0, sys.argv[1])
        import support
        print(hasattr(os, "pipe2"), support.reference_pipe2.__module__)
    """
    proc = run_python(code, str(Path(__file__).parent))
    assert proc.stdout.split() == [str(OS_PIPE2 is not None), reference_pipe2.__module__], proc.stderr


@pytest.mark.parametrize("case", CASES)
def test_the_model_meets_the_table_without_packet_mode(case):
    skip_a_quirk_of_qemu_user(case)
    want = case.get("expect_emulated") or case.get("expect_python") or case["expect"]
    assert_outcome(modelled_pipe2, table_argument(case), want)


@needs_os_pipe2
@pytest.mark.parametrize("case", [c for c in TABLE if "expect_emulated" not in c], ids=lambda c: c["name"])
def test_the_model_does_what_os_pipe2_does_with_the_table(case):
    skip_a_quirk_of_qemu_user(case)  # os.pipe2 there is qemu's, which the model is not
    assert call_and_capture(modelled_pipe2, table_argument(case)) == call_and_capture(OS_PIPE2, table_argument(case))


@needs_os_pipe2
@pytest.mark.parametrize("args, kwargs", [*BAD_CALLS.values(), *GOOD_CALLS.values()], ids=[*BAD_CALLS, *GOOD_CALLS])
def test_the_model_takes_every_call_as_os_pipe2_does(args, kwargs):
    assert call_and_capture(modelled_pipe2, *args, **kwargs) == call_and_capture(OS_PIPE2, *args, **kwargs)


@needs_os_pipe2
@settings(max_examples=300, deadline=None)
@given(OBJECTS)
def test_the_model_agrees_with_os_pipe2(value):
    expected = call_and_capture(OS_PIPE2, value)
    actual = call_and_capture(modelled_pipe2, value)
    if actual.errno == errno.EINVAL and expected.errno != errno.EINVAL:
        # Flags of Linux's pipe2 (O_DIRECT; O_NOTIFICATION_PIPE, ENOPKG), which a pipe2 without them rejects.
        assert expected.exc_type in (None, OSError)
        assert operator.index(value) & ~FLAGS_WITHOUT_PACKET_MODE
        return
    assert actual == expected


@needs_os_pipe2
def test_the_model_has_os_pipe2s_signature_and_help():
    assert modelled_pipe2.__name__ == OS_PIPE2.__name__
    assert inspect.signature(modelled_pipe2) == inspect.signature(OS_PIPE2)
    assert modelled_pipe2.__text_signature__ == OS_PIPE2.__text_signature__  # type: ignore[attr-defined]

    def signature_line(func):
        return pydoc.plain(pydoc.render_doc(func)).splitlines()[2]

    assert signature_line(modelled_pipe2) == signature_line(OS_PIPE2)


def test_the_models_conversion_warning_points_at_its_caller():
    int_subclass = type("IntSubclass", (int,), {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fds = modelled_pipe2(IndexReturning(int_subclass(0)))  # this line
    for fd in fds:
        os.close(fd)
    assert [(w.category, w.filename) for w in caught] == [(DeprecationWarning, __file__)]
    with warnings.catch_warnings(record=True) as cpythons:  # the wording is CPython's, which 3.15 changed
        warnings.simplefilter("always")
        operator.index(IndexReturning(int_subclass(0)))
    assert str(caught[0].message) == str(cpythons[0].message)
