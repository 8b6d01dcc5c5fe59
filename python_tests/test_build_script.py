"""build.py fails with a message that names what is missing."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import pyos

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


def fake_interpreter(tmp_path: Path, **config: object) -> str:
    """An interpreter that answers build.py's probe as this one would, with config changed."""
    answer = json.dumps({**load_build_module().python_config(sys.executable), **config})
    fake = tmp_path / "python-fake"
    fake.write_text(f"#!/bin/sh\necho '{answer}'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return str(fake)


def test_missing_python_headers_are_named(tmp_path):
    # An interpreter whose include directory has no Python.h, as without python3-dev.
    proc = run_build(
        tmp_path, fake_interpreter(tmp_path, include=str(tmp_path / "include"), pybindgen=True), os.environ["PATH"]
    )
    assert proc.returncode == 1
    assert "Python headers not found" in proc.stderr
    assert str(tmp_path / "include" / "Python.h") in proc.stderr


@pytest.mark.parametrize("where", ["soabi", "host"])
def test_musl_is_refused_at_once_naming_the_go_issues(tmp_path, where):
    # Go's c-shared libraries do not load under musl; the build stops before it looks for Go.
    musl = {"soabi": "cpython-312-x86_64-linux-musl", "host": "x86_64-pc-linux-musl"}[where]
    proc = run_build(tmp_path, fake_interpreter(tmp_path, **{where: musl}), str(tmp_path))  # no go on PATH
    assert proc.returncode == 1
    assert "runs on musl libc" in proc.stderr and "not supported" in proc.stderr
    assert "golang/go/issues/54805" in proc.stderr and "golang/go/issues/13492" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_glibc_is_not_taken_for_musl(tmp_path):
    # The control: the same run with this interpreter's own answer gets past the libc check, to the missing Go.
    proc = run_build(tmp_path, fake_interpreter(tmp_path), str(tmp_path))
    assert proc.returncode == 1
    assert "Go toolchain not found" in proc.stderr


def load_build_module():
    spec = importlib.util.spec_from_file_location("pyos_gopy_build", BUILD_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gopy_output():
    """What the pinned gopy really generates for the binding, checked by build.py."""
    build = load_build_module()
    work = build.WORK_ROOT / "test-gopy-output"  # gopy writes only inside the Go module
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    build.generate_with_gopy(build.check_go(), sys.executable, work, [], dict(os.environ))
    yield build, work
    shutil.rmtree(work)


def test_pinned_gopy_meets_every_assumption_of_build_py(gopy_output):
    _, work = gopy_output
    stubs = (work / "pyosgo.go").read_text()
    # Checked again here, so that a check_gopy_output that accepted anything would fail this test.
    assert "\npackage main\n" in stubs and "\n#cgo LDFLAGS: -shared\n" in stubs
    assert "binding_Pipe2" not in stubs and "binding_Version" in stubs  # gopy skips what has three results
    assert "mod = Module('_pyosgo')" in (work / "build.py").read_text()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda stubs: stubs, None),
        (lambda stubs: stubs.replace("\npackage main\n", "\npackage pyosgo\n"), "pyosgo.go is not package main"),
        (lambda stubs: stubs.replace("#cgo LDFLAGS: -shared", "#cgo LDFLAGS: -shared -lpython3.11"), "LDFLAGS"),
        (lambda stubs: stubs + "\n//export binding_Pipe2\n", "wraps binding.Pipe2"),
    ],
    ids=["unchanged", "another package", "other link flags", "Pipe2 wrapped"],
)
def test_check_of_gopy_output_names_what_changed(gopy_output, tmp_path, change, message):
    build, work = gopy_output
    (tmp_path / "build.py").write_text((work / "build.py").read_text())
    (tmp_path / "pyosgo.go").write_text(change((work / "pyosgo.go").read_text()))
    if message is None:  # the control: the real output passes
        build.check_gopy_output(tmp_path)
        return
    with pytest.raises(build.BuildError, match=f"gopy's output changed: .*{message}"):
        build.check_gopy_output(tmp_path)


def test_pybindgen_driver_refuses_a_script_that_makes_another_module(tmp_path):
    # The driver runs under an interpreter with pybindgen; a stand-in module records what it is asked.
    fake = tmp_path / "pybindgen.py"
    fake.write_text(
        "class Module:\n"
        "    def __init__(self, name):\n        self.name = name\n        self.functions = {}\n"
        "    def add_include(self, include):\n        pass\n"
        "    class after_init:\n        @staticmethod\n        def write_error_check(*args):\n            pass\n"
        "    def generate(self, out):\n        pass\n"
    )
    script = tmp_path / "build.py"
    script.write_text("from pybindgen import Module\nModule('_other').generate(None)\n")
    driver = BUILD_PY.parent / "extension" / "run_pybindgen.py"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(driver), str(script)], capture_output=True, text=True, env=env)
    assert proc.returncode == 1
    assert "generated the modules ['_other']" in proc.stderr
    script.write_text("from pybindgen import Module\nModule('_pyosgo').generate(None)\n")
    assert subprocess.run([sys.executable, str(driver), str(script)], env=env).returncode == 0


def test_the_installed_extension_has_no_library_search_path():
    # The interpreter's LDSHARED can carry an rpath to its own lib directory (pyenv's does); it must not enter.
    dynamic = subprocess.run(["readelf", "-d", pyos._pyosgo.__file__], capture_output=True, text=True, check=True)
    assert "(NEEDED)" in dynamic.stdout  # the control: readelf did list the dynamic section
    assert "RPATH" not in dynamic.stdout and "RUNPATH" not in dynamic.stdout


def test_the_installed_extension_names_no_directory_of_the_build_machine():
    ext = Path(pyos._pyosgo.__file__).read_bytes()
    for path in (str(BUILD_PY.parent), sys.prefix, sys.base_prefix):
        assert path.encode() not in ext
