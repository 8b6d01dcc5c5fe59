"""build.py fails with a message that names what is missing."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support import load_build_module, run_python

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
    probe = run_python("import pybindgen")
    assert probe.returncode != 0 and "No module named 'pybindgen'" in probe.stderr
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


@pytest.fixture(scope="module")
def gopy_output():
    """What the pinned gopy really generates for the binding, checked by build.py."""
    build = load_build_module()
    work = build.WORK_ROOT / "test-gopy-output"  # gopy writes only inside the Go module
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    build.generate_with_gopy(build.check_go(), sys.executable, work, [], dict(os.environ), "linux")
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
        build.check_gopy_output(tmp_path, "linux")
        return
    with pytest.raises(build.BuildError, match=f"gopy's output changed: .*{message}"):
        build.check_gopy_output(tmp_path, "linux")


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
    # ELF's dynamic section (readelf -d) on Linux; Mach-O's load commands (otool -l) on macOS.
    linux = sys.platform == "linux"
    command = ["readelf", "-d"] if linux else ["otool", "-l"]
    listing = subprocess.run([*command, pyos._pyosgo.__file__], capture_output=True, text=True, check=True).stdout
    assert ("(NEEDED)" if linux else "LC_LOAD_DYLIB") in listing  # the control: the tool listed the libraries
    assert not any(search_path in listing for search_path in ("RPATH", "RUNPATH", "LC_RPATH"))


def test_the_installed_extension_names_no_directory_of_the_build_machine():
    ext = Path(pyos._pyosgo.__file__).read_bytes()
    for path in (str(BUILD_PY.parent), sys.prefix, sys.base_prefix):
        assert path.encode() not in ext


# macOS's minimum: one home in build.py, from go.mod's go line.


@pytest.mark.parametrize(
    "go_line, target", [("go 1.26", "12.0"), ("go 1.26.0", "12.0"), ("go 1.26.8", "12.0"), ("go 1.27", "13.0")]
)
def test_macos_deployment_target_follows_the_go_line_of_go_mod(go_line, target):
    build = load_build_module()
    go_mod = f"module example.com/m\n\n{go_line}\n\ntool github.com/go-python/gopy\n"
    assert build.macos_deployment_target_of(go_mod) == target


def test_a_go_mod_without_a_go_line_is_refused():
    build = load_build_module()
    with pytest.raises(build.BuildError, match="no `go` line"):
        build.macos_deployment_target_of("module example.com/m\n// go 1.27\n")


def test_min_go_and_the_printed_deployment_target_are_go_mod_s():
    build = load_build_module()
    go_mod = (BUILD_PY.parent / "go.mod").read_text()
    assert f"\ngo {build.MIN_GO[0]}.{build.MIN_GO[1]}" in go_mod
    printed = subprocess.run(
        [sys.executable, str(BUILD_PY), "--print-macos-deployment-target"], capture_output=True, text=True, check=True
    ).stdout
    assert printed == build.macos_deployment_target_of(go_mod) + "\n" == build.MACOS_DEPLOYMENT_TARGET + "\n"


def test_macosx_deployment_target_older_than_go_s_is_refused(monkeypatch):
    build = load_build_module()
    go = build.check_go()
    oldest = ".".join(map(str, build.oldest_macos(max(build.MIN_GO, build.go_version(go)))))
    monkeypatch.delenv("MACOSX_DEPLOYMENT_TARGET", raising=False)
    assert build.macos_deployment_target(go) == oldest  # unset: go.mod's, or the toolchain's if that is newer
    monkeypatch.setenv("MACOSX_DEPLOYMENT_TARGET", "14.2")
    assert build.macos_deployment_target(go) == "14.2"
    monkeypatch.setenv("MACOSX_DEPLOYMENT_TARGET", "11.0")
    with pytest.raises(build.BuildError, match=f"MACOSX_DEPLOYMENT_TARGET=11.0 is older than macOS {oldest}"):
        build.macos_deployment_target(go)


# Linking for macOS on Linux: what build.py gives ld64.lld.


def test_libsystem_stub_for_lld_drops_only_the_arm64e_x1_targets():
    build = load_build_module()
    stub = (
        "targets:         [ x86_64-macos, arm64e-macos, \n                   arm64e.x1-macos, arm64e.x1-maccatalyst ]\n"
        "exports:\n  - targets:         [ arm64-macos, arm64e.x1-macos ]\n    symbols: [ _x ]\n"
    )
    assert build.libsystem_stub_for_lld(stub) == (
        "targets: [ x86_64-macos, arm64e-macos ]\nexports:\n  - targets: [ arm64-macos ]\n    symbols: [ _x ]\n"
    )


def macos_link_with_a_recording_lld(tmp_path: Path, args: list[str]) -> tuple[int, list[str]]:
    build = load_build_module()
    lld = tmp_path / "ld64.lld"
    lld.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {tmp_path / 'args'}\n")
    lld.chmod(0o755)
    config = {"lld": str(lld), "arch": "x86_64", "target": "12.0", "sdk": "27.0", "stubs": str(tmp_path)}
    (tmp_path / "link.json").write_text(json.dumps(config))
    returncode = build.macos_link(tmp_path / "link.json", args)
    recorded = (tmp_path / "args").read_text().splitlines() if (tmp_path / "args").exists() else []
    return returncode, recorded


def test_macos_link_gives_lld_go_s_link_as_clang_would_give_apple_s(tmp_path):
    # Go 1.26's arguments for the x86_64 library (runtime/cgo's -lpthread, internal/syscall/unix's -lresolv).
    go_args = ["-arch", "x86_64", "-m64", "-Wl,-S", "-dynamiclib", "-o", "_pyosgo.abi3.so", "-Qunused-arguments"]
    go_args += ["-Wl,--compress-debug-sections=zlib", "/tmp/go-link-1/go.o", "/tmp/go-link-1/000000.o"]
    go_args += ["-mmacosx-version-min=12.0", "-Wl,-undefined,dynamic_lookup", "-lpthread", "-lresolv"]
    go_args += ["-Wl,-x,-exported_symbol,_PyInit__pyosgo"]
    returncode, lld_args = macos_link_with_a_recording_lld(tmp_path, go_args)
    assert returncode == 0
    assert lld_args == [
        "-arch", "x86_64", "-dylib", "-platform_version", "macos", "12.0", "27.0", "-S",
        "-o", "_pyosgo.abi3.so", "/tmp/go-link-1/go.o", "/tmp/go-link-1/000000.o",
        "-undefined", "dynamic_lookup", "-lpthread", "-lresolv", "-x", "-exported_symbol", "_PyInit__pyosgo",
        "-L", str(tmp_path), "-F", str(tmp_path), "-lSystem", "-adhoc_codesign",
    ]  # fmt: skip


@pytest.mark.parametrize("unexpected", ["-mmacosx-version-min=11.0", "-shared", "-fuse-ld=gold"])
def test_macos_link_refuses_what_it_does_not_translate(tmp_path, unexpected, capsys):
    returncode, lld_args = macos_link_with_a_recording_lld(tmp_path, ["-dynamiclib", "-o", "x.so", unexpected])
    assert returncode == 2 and lld_args == []
    assert "build.py --macos-link" in capsys.readouterr().err
