"""setuptools glue: build_ext hands the extension to build.py, which drives gopy; sdist carries the Go modules."""

from __future__ import annotations

import importlib.util
import os
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent


def load_gopy_builder():
    # Loaded by path: a module named "build" could be shadowed by PyPI's build package.
    spec = importlib.util.spec_from_file_location("pyos_gopy_build", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builder = load_gopy_builder()


class GopyBuildExt(build_ext):
    """Build each extension with build.py instead of compiling C sources."""

    def build_extension(self, ext: Extension) -> None:
        target = Path(self.get_ext_fullpath(ext.name))
        # An extension of an earlier build left beside it, for another ABI, would be packed and loaded first.
        for stale in target.parent.glob("_pyosgo.*.so"):
            stale.unlink()
        tags = [t for t in os.environ.get("PYOS_GO_TAGS", "").split(",") if t]
        try:
            built = builder.build(sys.executable, target.parent, tags)
        except builder.BuildError as err:
            sys.exit(f"error: building the pyos extension failed: {err}")
        if built != target:
            built.replace(target)


class SdistWithGoModules(sdist):
    """An sdist that holds, in vendor/, every Go module the build needs, gopy and goimports included.

    Go builds from it without the module proxy: a vendor/ directory beside go.mod is
    what the go command then uses.
    """

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        vendor = Path(base_dir).resolve() / "vendor"
        try:
            builder.run([builder.check_go(), "mod", "vendor", "-o", str(vendor)])
        except builder.BuildError as err:
            sys.exit(f"error: the sdist carries the Go modules, and collecting them failed: {err}")


# build.py decides the ABI: the stable one wherever CPython has a GIL.
stable_abi = builder.uses_stable_abi({"gil_disabled": bool(sysconfig.get_config_var("Py_GIL_DISABLED"))})

try:
    version = builder.go_package_version()
except builder.BuildError as err:
    sys.exit(f"error: {err}")

setup(
    version=version,
    # The sources are the Go package, its binding and extension/; the list only
    # tells setuptools that there is a platform-specific extension to build.
    ext_modules=[
        Extension(
            "pyos._pyosgo",
            sources=["binding/binding.go", "extension/pyos_module.c"],
            py_limited_api=stable_abi,
        )
    ],
    cmdclass={"build_ext": GopyBuildExt, "sdist": SdistWithGoModules},
    options={"bdist_wheel": {"py_limited_api": builder.LIMITED_API_TAG}} if stable_abi else {},
)
