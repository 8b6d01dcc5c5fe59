"""Check what make dist built: the sdist's contents, and the manylinux wheel and the sdist installed into fresh venvs.

    python check_dist.py DIST_DIR

The seed example runs from the installed wheel, with a copy of the example in a
scratch directory, so nothing of the source tree is importable. The last line
reads "N passed, M failed".
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SDIST_MUST_HOLD = [
    "go.mod",
    "go.sum",
    "build.py",
    "setup.py",
    "pyproject.toml",
    "pyos/pipe2.go",
    "binding/binding.go",
    "extension/pyos_module.c",
    "extension/pyos_module.h",
    "extension/go_entry_guard.go",
    "extension/run_pybindgen.py",
]


def check_sdist(sdist: Path) -> None:
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    missing = [name for name in SDIST_MUST_HOLD if name not in names]
    assert not missing, f"{sdist.name} lacks {missing}"


def check_one_manylinux_wheel(wheels: list[Path]) -> None:
    assert len(wheels) == 1, f"expected one manylinux wheel, found {[w.name for w in wheels]}"


def fresh_venv(where: Path) -> Path:
    venv.create(where, with_pip=True)
    return where / "bin" / "python"


def check_seed_example_from(package: Path, scratch: Path) -> None:
    python = fresh_venv(scratch / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(package)], check=True)
    example = scratch / "seed_example.py"
    example.write_text((ROOT / "examples" / "seed_example.py").read_text())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "PYTHONPATH")}
    proc = subprocess.run(
        [str(python), "-I", str(example)], capture_output=True, text=True, cwd=scratch, env=env, timeout=60
    )
    where = subprocess.run(
        [str(python), "-I", "-c", "import pyos; print(pyos.__file__)"], capture_output=True, text=True, cwd=scratch
    ).stdout
    assert str(scratch / "venv") in where, f"pyos came from {where}"
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout == (ROOT / "examples" / "seed_example.out").read_text(), proc.stdout


def main() -> int:
    dist = Path(sys.argv[1])
    sdist = next(dist.glob("*.tar.gz"))
    wheels = list(dist.glob("*manylinux*.whl"))
    checks = {
        "sdist holds the Go sources, go.mod, go.sum and build.py": lambda tmp: check_sdist(sdist),
        "one manylinux wheel": lambda tmp: check_one_manylinux_wheel(wheels),
        "seed example from the installed manylinux wheel": lambda tmp: check_seed_example_from(wheels[0], tmp),
        "seed example from the installed sdist (built with Go)": lambda tmp: check_seed_example_from(sdist, tmp),
    }
    failed = 0
    for name, check in checks.items():
        with tempfile.TemporaryDirectory() as tmp:
            try:
                check(Path(tmp))
                print(f"ok      {name}", flush=True)
            except Exception as exc:
                failed += 1
                print(f"FAILED  {name}: {exc!r}", flush=True)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
