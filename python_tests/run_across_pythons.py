"""Install pyos into a venv of every CPython 3.9-3.13 the machine has, and check it there.

    python run_across_pythons.py seed     the seed example: exact stdout, empty stderr
    python run_across_pythons.py pytest   the whole pytest suite
    ... --ends                            only the oldest and the newest of them (what CI adds)

Interpreters are found under pyenv's versions directory (the newest patch release
of each minor version), or, without pyenv, the interpreter running this script;
the venvs live in .venvs/ at the repository root. The
last line reads "N passed, M failed".
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / ".venvs"
MINORS = range(9, 14)


def find_pythons() -> dict[str, Path]:
    """The newest pyenv CPython of each minor version 3.9-3.13, by "3.N"."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found: dict[str, tuple[tuple[int, ...], Path]] = {}
    for version_dir in (pyenv_root / "versions").glob("3.*"):
        match = re.fullmatch(r"3\.(\d+)\.(\d+)", version_dir.name)
        python = version_dir / "bin" / "python3"
        if match and int(match[1]) in MINORS and python.is_file():
            key, release = f"3.{match[1]}", (int(match[1]), int(match[2]))
            if key not in found or found[key][0] < release:
                found[key] = (release, python)
    if not found and sys.version_info[:2] in [(3, minor) for minor in MINORS]:
        # No pyenv here: the interpreter running this script is the one the machine has.
        found[f"3.{sys.version_info[1]}"] = (sys.version_info[1:3], Path(sys.executable))
    return {key: python for key, (_, python) in sorted(found.items(), key=lambda kv: kv[1][0])}


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    print("$", " ".join(map(str, cmd)), flush=True)
    return subprocess.run(cmd, text=True, **kwargs)


def prepare_venv(version: str, base_python: Path, with_pytest: bool) -> Path:
    venv = VENVS / f"cpython-{version}"
    python = venv / "bin" / "python"
    if not python.exists():
        run([str(base_python), "-m", "venv", str(venv)], check=True)
    if with_pytest:
        run([str(python), "-m", "pip", "install", "--quiet", "-r", str(ROOT / "requirements-test.txt")], check=True)
    run([str(python), "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", str(ROOT)], check=True)
    return python


def check_seed(python: Path) -> bool:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = run([str(python), str(ROOT / "examples" / "seed_example.py")], capture_output=True, env=env, timeout=60)
    expected = (ROOT / "examples" / "seed_example.out").read_text()
    if proc.returncode == 0 and proc.stdout == expected and proc.stderr == "":
        return True
    print(f"exit {proc.returncode}\n--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}", flush=True)
    return False


def check_pytest(python: Path) -> bool:
    return run([str(python.parent / "pytest"), "-q", str(ROOT / "python_tests")], cwd=ROOT).returncode == 0


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode not in ("seed", "pytest"):
        print(__doc__, file=sys.stderr)
        return 2
    pythons = find_pythons()
    if "--ends" in sys.argv and len(pythons) > 2:
        oldest, *_, newest = pythons
        pythons = {oldest: pythons[oldest], newest: pythons[newest]}
    if not pythons:
        print("no CPython 3.9-3.13 found under pyenv", file=sys.stderr)
        return 1
    results = {}
    for version, base in pythons.items():
        print(f"=== CPython {version} ({base})", flush=True)
        try:
            python = prepare_venv(version, base, with_pytest=mode == "pytest")
        except subprocess.CalledProcessError as err:
            print(f"setting up the venv failed: {err}", flush=True)
            results[version] = False
        else:
            results[version] = check_seed(python) if mode == "seed" else check_pytest(python)
        print(f"=== CPython {version}: {'passed' if results[version] else 'FAILED'}", flush=True)
    passed = sum(results.values())
    print(f"{mode} on {', '.join(results)}")
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
