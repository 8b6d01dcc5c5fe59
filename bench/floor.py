"""Build Go's floor, the module _gofloor (bench/floor/), for a Python interpreter.

    python floor.py [PYTHON]     build it for PYTHON (this interpreter by default); print its directory

The floor is built the way build.py builds pyos's extension, from build.py's own
functions: the same Go toolchain (check_go), the same C flags and ABI (compiler_env:
the stable ABI where the interpreter has a GIL), -trimpath, the release build's
-ldflags (-s -w -buildid= and release_link_flags: stripped, only the init function
exported) and -buildmode=c-shared; and extension/godebug.go, copied in, gives it
pyos's //go:debug defaults. So what it costs is what Go's runtime costs pyos.
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCES = HERE / "floor"
TAGS = "pyos_floor,pyos_extension"  # pyos_extension: extension/godebug.go's tag
MODULE = "_gofloor"


def release_build() -> SimpleNamespace:
    """build.py's functions and constants, the one home of the release build's flags (run by path: a module named
    "build" could be PyPI's build package)."""
    return SimpleNamespace(**runpy.run_path(str(ROOT / "build.py"), run_name="pyos_release_build"))


def build(python: str) -> Path:
    """Build _gofloor for python into build/bench-floor/SOABI-GOOS-GOARCH/; return the directory that holds it.

    One directory for each interpreter, also where it is built for the stable ABI: the headers are the interpreter's.
    """
    rb = release_build()
    cfg = rb.python_config(python)
    go = rb.check_go()
    goos, goarch = rb.go_target(go)
    out = ROOT / "build" / "bench-floor" / f"{cfg['soabi']}-{goos}-{goarch}"
    work = out / "src"
    if out.exists():
        shutil.rmtree(out)
    work.mkdir(parents=True)
    for source in [*SOURCES.iterdir(), rb.EXTENSION_SOURCES / "godebug.go"]:
        shutil.copyfile(source, work / source.name)
    env = rb.compiler_env(cfg, work, go, goos)
    target = out / f"{MODULE}{rb.extension_suffix(cfg)}"
    ldflags = f"-s -w -buildid= -extldflags={rb.release_link_flags(work, goos)}"
    command = [go, "build", "-buildmode=c-shared", "-trimpath", "-tags", TAGS, f"-ldflags={ldflags}", "-o", str(target)]
    subprocess.run([*command, "."], cwd=work, env=env, check=True)
    for header in out.glob("*.h"):  # c-shared's header of the exports, of no use here
        header.unlink()
    return out


def main() -> int:
    python = sys.argv[1] if len(sys.argv) > 1 else sys.executable
    python = os.path.abspath(python) if os.sep in python else python
    print(build(python))
    return 0


if __name__ == "__main__":
    sys.exit(main())
