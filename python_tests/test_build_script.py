"""build.py fails with a message that names what is missing."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

BUILD_PY = Path(__file__).resolve().parents[1] / "build.py"


def run_build(tmp_path: Path, python: str, path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BUILD_PY), "--python", python, "--dest", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
        timeout=120,
    )


def test_missing_go_is_named(tmp_path):
    proc = run_build(tmp_path, sys.executable, str(tmp_path))  # a PATH with no go on it
    assert proc.returncode == 1
    assert "Go toolchain not found" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_missing_pybindgen_is_named(tmp_path):
    # The test venv has no pybindgen: only pip's isolated build environment installs it.
    probe = subprocess.run([sys.executable, "-c", "import pybindgen"], stderr=subprocess.DEVNULL)
    assert probe.returncode != 0
    proc = run_build(tmp_path, sys.executable, os.environ["PATH"])
    assert proc.returncode == 1
    assert f"pybindgen is not installed for {sys.executable}" in proc.stderr


def test_missing_python_headers_are_named(tmp_path):
    # An interpreter whose include directory has no Python.h, as without python3-dev.
    fake = tmp_path / "python-without-headers"
    answer = json.dumps({"include": str(tmp_path / "include"), "ext_suffix": ".so", "pybindgen": True})
    fake.write_text(f"#!/bin/sh\necho '{answer}'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    proc = run_build(tmp_path, str(fake), os.environ["PATH"])
    assert proc.returncode == 1
    assert "Python headers not found" in proc.stderr
    assert str(tmp_path / "include" / "Python.h") in proc.stderr
