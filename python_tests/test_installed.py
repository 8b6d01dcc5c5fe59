"""The tests run against the installed package, so a packaging mistake fails them."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pyos

PACKAGE_DIR = Path(pyos.__file__).resolve().parent
SOURCE_TREE = Path(__file__).resolve().parents[1]
# The stable ABI wherever CPython has a GIL; a free-threaded CPython loads only extensions built for it.
EXTENSION = "_pyosgo" + (
    sysconfig.get_config_var("EXT_SUFFIX") if sysconfig.get_config_var("Py_GIL_DISABLED") else ".abi3.so"
)


def test_pyos_is_imported_from_site_packages_not_the_source_tree():
    site_dirs = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    assert PACKAGE_DIR.parent in site_dirs
    assert PACKAGE_DIR != SOURCE_TREE / "python" / "pyos"


def test_package_ships_the_facade_the_extension_and_py_typed_only():
    files = sorted(p.name for p in PACKAGE_DIR.iterdir() if p.name != "__pycache__")
    assert files == sorted(["__init__.py", "_fork.py", "_goruntime.py", "py.typed", "_pyosgo.pyi", EXTENSION])
    assert Path(pyos._pyosgo.__file__).name == EXTENSION


def test_import_has_no_side_effects_of_gopys_wrapper():
    # gopy's generated wrapper calls os.chdir and imports inspect at import time.
    code = (
        "import os, sys\n"
        "os.chdir('/')\n"
        "import pyos\n"
        "assert os.getcwd() == '/', os.getcwd()\n"
        "assert 'inspect' not in sys.modules\n"
        "assert not any(name.endswith(('.go', '.binding')) for name in sys.modules), sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-I", "-c", code], check=True)


def test_extension_does_not_link_libpython():
    ext = PACKAGE_DIR / EXTENSION
    needed = subprocess.run(["ldd", str(ext)], stdout=subprocess.PIPE, text=True, check=True).stdout
    assert "libc.so" in needed  # ldd really listed the dependencies
    assert "libpython" not in needed


def test_public_names():
    expected = {"__version__", "HAVE_NATIVE_PIPE2", "O_CLOEXEC", "O_NONBLOCK", "fork", "pipe", "pipe2"}
    assert set(pyos.__all__) == expected | ({"O_DIRECT"} if pyos.HAVE_NATIVE_PIPE2 else set())
    assert all(hasattr(pyos, name) for name in pyos.__all__)
    assert type(pyos.HAVE_NATIVE_PIPE2) is bool
    assert (PACKAGE_DIR / "py.typed").is_file()


def test_one_version_for_go_and_python():
    go_version = re.search(r'const Version = "([^"]+)"', (SOURCE_TREE / "pyos" / "version.go").read_text())
    assert go_version is not None
    assert pyos.__version__ == importlib.metadata.version("pyos-pipe2") == go_version[1]


def test_import_leaves_the_gil_as_it_was_and_warns_nothing():
    # A free-threaded CPython turns the GIL back on, with a RuntimeWarning, for an
    # extension that does not declare it can run without it; -W error makes that fail.
    code = (
        "import sys\n"
        "gil = getattr(sys, '_is_gil_enabled', lambda: True)\n"
        "before = gil()\n"
        "import pyos\n"
        "print(before, gil())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    proc = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert proc.stdout.split() == [str(not free_threaded)] * 2


def test_import_in_the_source_trees_root_gets_the_installed_package_or_says_what_to_do():
    # There, Python finds the Go package's directory, pyos/, before site-packages.
    installed = subprocess.run(
        [sys.executable, "-c", "import pyos; print(pyos.__file__, pyos.pipe2.__module__)"],
        cwd=SOURCE_TREE,
        capture_output=True,
        text=True,
    )
    assert installed.stdout.split() == [str(PACKAGE_DIR / "__init__.py"), "pyos"], installed.stderr
    without_site_packages = subprocess.run(
        [sys.executable, "-S", "-c", "import pyos"], cwd=SOURCE_TREE, capture_output=True, text=True
    )
    assert without_site_packages.returncode == 1
    assert "ImportError: pyos is not installed for this interpreter" in without_site_packages.stderr
