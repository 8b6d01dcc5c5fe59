"""Run the tests as on macOS with PYOS_TEST_WITHOUT_OS_PIPE2=1: importing support first takes os.pipe2 and
os.O_DIRECT away before any test module imports os's names, and the child processes that rely on os.pipe2 import
support too, the environment passing the setting on."""

from __future__ import annotations

import sys

import pytest
import support


def pytest_configure(config: pytest.Config) -> None:
    if not support.WITHOUT_OS_PIPE2:
        return
    import pyos

    # On Linux the native build has O_DIRECT's packet mode, which the model of a pipe2 without os's O_DIRECT lacks.
    if sys.platform == "linux" and pyos.HAVE_NATIVE_PIPE2:
        raise pytest.UsageError(
            "PYOS_TEST_WITHOUT_OS_PIPE2=1 stands for macOS, where pipe2 is emulated: run it against a build with"
            " PYOS_GO_TAGS=pyos_emulate (make py-test-no-os-pipe2)"
        )


def pytest_report_header(config: pytest.Config) -> str:
    if support.WITHOUT_OS_PIPE2:
        where = "taken out of os by PYOS_TEST_WITHOUT_OS_PIPE2=1, as on macOS"
    elif support.OS_PIPE2 is None:
        where = "not in os here"
    else:
        where = "os's own"
    reference = "os.pipe2" if support.OS_PIPE2 is not None else "support.modelled_pipe2 (CPython's os.pipe2 modelled)"
    return f"os.pipe2: {where}; pyos.pipe2 is compared with {reference}"
