"""Run the tests as on macOS with PYOS_TEST_WITHOUT_OS_PIPE2=1: importing support first takes os.pipe2 and
os.O_DIRECT away before any test module imports os's names, and the child processes that rely on os.pipe2 import
support too, the environment passing the setting on. Also the mypy_strict fixture, which the typing tests share."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


@pytest.fixture(scope="session")
def mypy_strict(tmp_path_factory: pytest.TempPathFactory) -> support.MypyStrict:
    """Run `mypy --strict --platform PLATFORM` on a file, with one cache per platform for the whole session: mypy
    reads typeshed once per platform instead of once per run, which is most of its time (much more where mypy is not
    compiled, as on 3.13t)."""
    caches = tmp_path_factory.mktemp("mypy-cache")

    def run(source: Path, platform: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "mypy", "--strict", "--platform", platform, "--no-error-summary"]
        argv += ["--cache-dir", str(caches / platform), source.name]
        return subprocess.run(argv, capture_output=True, text=True, cwd=source.parent)

    return run
