"""The tests run against the installed package, so a packaging mistake fails them."""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import os
import sysconfig
from pathlib import Path

from support import LINUX, linked_libraries, load_build_module, run_python

import pyos

PACKAGE_DIR = Path(pyos.__file__).resolve().parent
SOURCE_TREE = Path(__file__).resolve().parents[1]
# The stable ABI wherever CPython has a GIL, under one of the abi3 suffixes this CPython loads (3.15 adds
# one with the platform's triplet, which setuptools names a build from the tree after); a free-threaded
# CPython loads only extensions built for it.
ABI3_SUFFIXES = [suffix for suffix in importlib.machinery.EXTENSION_SUFFIXES if suffix.startswith(".abi3")]
EXTENSION = Path(pyos._pyosgo.__file__).name


def test_pyos_is_imported_from_site_packages_not_the_source_tree():
    site_dirs = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    assert PACKAGE_DIR.parent in site_dirs
    assert PACKAGE_DIR != SOURCE_TREE / "python" / "pyos"


def test_package_ships_the_facade_the_extension_and_py_typed_only():
    files = sorted(p.name for p in PACKAGE_DIR.iterdir() if p.name != "__pycache__")
    assert files == sorted(["__init__.py", "_install.py", "_spawn.py", "py.typed", "_pyosgo.pyi", EXTENSION])
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        assert "_pyosgo" + sysconfig.get_config_var("EXT_SUFFIX") == EXTENSION
    else:
        assert EXTENSION in ["_pyosgo" + suffix for suffix in ABI3_SUFFIXES] and ABI3_SUFFIXES


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
    proc = run_python(code, options=["-I"])
    assert proc.returncode == 0, proc.stderr


def test_extension_does_not_link_libpython():
    ext = PACKAGE_DIR / EXTENSION
    needed = linked_libraries(ext)
    assert ("libc.so" if LINUX else "libSystem") in needed  # the loader's tool really listed the dependencies
    assert "libpython" not in needed and "Python.framework" not in needed


def test_public_names():
    expected = {"__version__", "HAVE_NATIVE_PIPE2", "O_CLOEXEC", "O_NONBLOCK", "fork", "install", "pipe", "pipe2"}
    expected |= {"posix_spawn", "posix_spawnp"}  # os's own where pipe2 is native
    assert set(pyos.__all__) == expected | ({"O_DIRECT"} if pyos.HAVE_NATIVE_PIPE2 else set())
    assert all(hasattr(pyos, name) for name in pyos.__all__)
    assert type(pyos.HAVE_NATIVE_PIPE2) is bool
    assert (PACKAGE_DIR / "py.typed").is_file()


def test_one_version_for_go_and_python():
    # The one source: pyos/version.go, read by build.py for setup.py, and given to the extension by Go at init.
    go_version = load_build_module().go_package_version()
    assert pyos.__version__ == importlib.metadata.version("pyos-pipe2") == go_version


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
    proc = run_python(code, options=["-W", "error"], env=env)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert proc.stdout.split() == [str(not free_threaded)] * 2


def test_import_in_the_source_trees_root_gets_the_installed_package():
    # There, Python finds the Go package's directory, pyos/, before site-packages; having no __init__.py it is only
    # a portion of a namespace package (PEP 420), and the installed regular package later on sys.path wins.
    assert not (SOURCE_TREE / "pyos" / "__init__.py").exists()
    installed = run_python("import pyos; print(pyos.__file__, pyos.pipe2.__module__)", cwd=SOURCE_TREE)
    assert installed.stdout.split() == [str(PACKAGE_DIR / "__init__.py"), "pyos"], installed.stderr


def test_import_in_the_source_trees_root_without_the_package_gets_an_empty_namespace():
    # Where pyos is not installed (here: -S, no site-packages), `import pyos` there succeeds with the Go package's
    # directory as an empty namespace package, and the first use of it fails with CPython's AttributeError, which
    # does not say that pyos is not installed.
    proc = run_python("import pyos; print(list(pyos.__path__)); pyos.pipe2(0)", options=["-S"], cwd=SOURCE_TREE)
    assert proc.stdout == f"{[str(SOURCE_TREE / 'pyos')]}\n"
    assert proc.returncode == 1 and "AttributeError: module 'pyos' has no attribute 'pipe2'" in proc.stderr
