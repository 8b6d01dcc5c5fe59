"""pyos.install(): os.pipe2 for scripts that cannot change, where os lacks it; os untouched where it has one."""

from __future__ import annotations

import os
import subprocess

import pytest
from support import run_python

import pyos

# A script written for Linux, run after install(): it must not know pyos exists.
LINUX_SCRIPT = """
import os
r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
assert os.get_blocking(r) is False and os.get_inheritable(w) is False
os.write(w, b"x")
assert os.read(r, 1) == b"x"
try:
    os.read(r, 1)
except BlockingIOError:
    pass
os.close(r)
os.close(w)
"""


def run(code: str) -> subprocess.CompletedProcess[str]:
    return run_python(code)


def test_leaves_an_existing_os_pipe2_and_its_constants_alone():
    # os's own pipe2 where it has one (Linux); elsewhere (macOS) a stand-in for the one macOS 27 may bring.
    proc = run(
        """
        import os
        if not hasattr(os, "pipe2"):
            os.pipe2 = lambda flags, /: os.pipe()
        existing = os.pipe2
        spawns = ("posix_spawn", "posix_spawnp")
        snapshot = {name: value for name, value in vars(os).items() if name not in spawns}
        all_before = list(os.__all__)
        import pyos
        # Where pipe2 is emulated, install() still puts pyos's posix_spawn and posix_spawnp into os.
        assert pyos.install() is not pyos.HAVE_NATIVE_PIPE2
        assert {name: value for name, value in vars(os).items() if name not in spawns} == snapshot
        assert os.__all__ == all_before
        assert os.pipe2 is existing and os.pipe2 is not pyos.pipe2
        print("ok")
        """
    )
    assert (proc.stdout, proc.stderr) == ("ok\n", "")


def test_installs_where_os_has_no_pipe2_and_a_linux_script_runs_unchanged():
    proc = run(
        f"""
        import os
        native = getattr(os, "pipe2", None)
        if native is not None:  # os's own, on Linux: gone, as on macOS
            del os.pipe2
            os.__all__.remove("pipe2")
        constants = {{name: getattr(os, name) for name in ("O_NONBLOCK", "O_CLOEXEC", "O_DIRECT") if hasattr(os, name)}}
        import pyos
        assert pyos.install() is True
        assert os.pipe2 is pyos.pipe2 and os.pipe2 is not native
        assert os.__all__.count("pipe2") == 1
        assert {{name: getattr(os, name) for name in constants}} == constants
        exec({LINUX_SCRIPT!r})
        namespace = {{}}
        exec("from os import *", namespace)
        assert namespace["pipe2"] is pyos.pipe2
        assert (os.posix_spawn, os.posix_spawnp) == (pyos.posix_spawn, pyos.posix_spawnp)
        # Again: os has pipe2 now, pyos's, and nothing changes.
        snapshot = dict(vars(os))
        assert pyos.install() is False and dict(vars(os)) == snapshot
        print("ok")
        """
    )
    assert (proc.stdout, proc.stderr) == ("ok\n", "")


def test_adds_the_constants_os_lacks_with_pyos_values():
    proc = run(
        """
        import os
        for name in ("pipe2", "O_NONBLOCK", "O_CLOEXEC", "O_DIRECT"):
            vars(os).pop(name, None)
        import pyos
        assert pyos.install() is True
        assert (os.O_NONBLOCK, os.O_CLOEXEC) == (pyos.O_NONBLOCK, pyos.O_CLOEXEC)
        assert {"O_NONBLOCK", "O_CLOEXEC"} <= set(os.__all__)
        # O_DIRECT comes back where pyos has it (not in the emulated build: no packet mode there).
        assert hasattr(os, "O_DIRECT") == ("O_DIRECT" in pyos.__all__)
        if hasattr(os, "O_DIRECT"):
            assert os.O_DIRECT == pyos.O_DIRECT and "O_DIRECT" in os.__all__
        print("ok")
        """
    )
    assert (proc.stdout, proc.stderr) == ("ok\n", "")


def test_puts_pyos_spawns_into_os_only_where_pipe2_is_emulated():
    proc = run(
        """
        import os, subprocess
        os_spawns = (os.posix_spawn, os.posix_spawnp)
        import pyos
        pyos.install()
        spawns = (os.posix_spawn, os.posix_spawnp)
        if pyos.HAVE_NATIVE_PIPE2:
            assert spawns == os_spawns == (pyos.posix_spawn, pyos.posix_spawnp)
        else:
            assert spawns == (pyos.posix_spawn, pyos.posix_spawnp) and spawns != os_spawns
            assert spawns[0].__wrapped__ is os_spawns[0] and spawns[1].__wrapped__ is os_spawns[1]
        # subprocess takes os.posix_spawn at call time: it spawns through pyos's.
        assert subprocess.run(["/bin/true"], close_fds=False).returncode == 0
        print("ok")
        """
    )
    assert (proc.stdout, proc.stderr) == ("ok\n", "")


@pytest.mark.parametrize("name", ["O_NONBLOCK", "O_CLOEXEC"])
def test_a_differing_os_constant_is_an_error_and_os_is_left_as_it_was(name):
    proc = run(
        f"""
        import os
        vars(os).pop("pipe2", None)
        os.{name} = os.{name} << 8
        snapshot = dict(vars(os))
        import pyos
        try:
            pyos.install()
        except RuntimeError as e:
            print(e)
        assert dict(vars(os)) == snapshot and not hasattr(os, "pipe2")
        """
    )
    value = getattr(os, name)
    assert proc.stdout == f"os.{name} is {value << 8} but pyos.{name} is {value}: os was not changed\n", proc.stderr


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_mypy_strict_types_install_as_returning_bool(mypy_strict, tmp_path, platform):
    source = tmp_path / "uses_install.py"
    source.write_text("import pyos\n\ninstalled: bool = pyos.install()\nwrong: str = pyos.install()\n")
    proc = mypy_strict(source, platform)
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and errors[0].startswith("uses_install.py:4:"), proc.stdout


def test_install_is_documented():
    assert pyos.install.__doc__ is not None and "os.pipe2" in pyos.install.__doc__
