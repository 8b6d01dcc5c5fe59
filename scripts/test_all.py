#!/usr/bin/env python3
"""make test-all: the pytest suite (the seed example and the fork stress are among its tests) on each interpreter.

    python3 scripts/test_all.py [NAME...]    NAME of scripts/matrix.py (default: every one of this machine)
    python3 scripts/test_all.py --ci         matrix.CI's, as .ci/run runs them

For each interpreter: a fresh venv in .venvs/NAME holding the test requirements and pyos built from
this tree, then pytest. One line per interpreter and a summary; what each step printed is in
.venvs/NAME.log. interpreters.py provisions what the host lacks.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import interpreters
import matrix

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / ".venvs"
UV = VENVS / "uv" / "bin" / "uv"


@dataclass
class Result:
    name: str
    ok: bool
    report: str  # what ran and what it found, on one line


def run_logged(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    with open(log, "a") as out:
        out.write(f"$ {shlex.join(cmd)}\n")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with open(log, "a") as out:
        out.write(proc.stdout)
    return proc


@dataclass
class VenvCommands:
    """The commands that make a fresh venv, install the pinned tools into it, and run its pip. Each venv has the pip
    its interpreter ships, which builds and installs pyos as a user's does; on the host uv installs the tools, much
    faster than pip (docs/development.md). In a root, where uv is not, the venv's pip installs them too."""

    make: list[str]
    install_tools: list[str]  # then -r FILE or packages
    pip: list[str]

    @classmethod
    def of(cls, prefix: list[str], python: str, path: Path) -> VenvCommands:
        pip = [*prefix, str(path / "bin" / "python"), "-m", "pip"]
        make = [*prefix, python, "-m", "venv", "--clear", str(path)]
        if prefix:
            return cls(make, [*pip, "install", "--quiet"], pip)
        uv = [str(installed_uv()), "pip", "install", "--quiet", "--system-certs"]
        return cls(make, [*uv, "--python", str(path / "bin" / "python")], pip)


@functools.cache
def installed_uv() -> Path:
    """uv, as requirements-uv.txt pins it, installed by the Makefile's rule for it (asked of make once a run)."""
    make = ["make", "--no-print-directory", f"PYTHON={sys.executable}", str(UV.relative_to(ROOT))]
    if subprocess.run(make, cwd=ROOT, stdout=sys.stderr).returncode:
        sys.exit(f"test_all.py: error: {' '.join(make)} failed: uv is missing")
    return UV


def run_suite(name: str, install: str, venv: Path) -> Result:
    """The one runner: a fresh venv of interpreter name, the test requirements and install (. or a wheel), then
    pytest; logged in venv's .log."""
    started = time.monotonic()
    log = venv.parent / f"{venv.name}.log"
    log.write_text("")
    try:
        prefix, python = interpreters.command(name)
    except interpreters.Error as err:
        return Result(name, False, f"FAILED  {err}")
    provisioned = time.monotonic() - started
    # Under qemu-user the tests expect what its emulation of the system calls does.
    qemu = {"PYOS_QEMU_USER": "1"} if matrix.BY_NAME[name].machine != os.uname().machine else {}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONUNBUFFERED", "PYTHON_GIL")} | qemu
    vpy = [*prefix, str(venv / "bin" / "python")]
    commands = VenvCommands.of(prefix, python, venv)
    setup = [
        commands.make,
        [*commands.install_tools, "-r", "requirements-test.txt"],
        [*commands.pip, "install", "--quiet", "--no-deps", install],
    ]
    for step in setup:
        if run_logged(step, log, env).returncode:
            return Result(name, False, f"FAILED  {shlex.join(step[len(prefix) :])} (log: {log.relative_to(ROOT)})")
    gil = "import sys, pyos; print(sys.version.split()[0], getattr(sys, '_is_gil_enabled', lambda: True)())"
    probe = run_logged([*vpy, "-c", gil], log, env)
    if probe.returncode:
        return Result(name, False, f"FAILED  import pyos (log: {log.relative_to(ROOT)})")
    version, gil_enabled = probe.stdout.split()[-2:]
    tests = run_logged(
        [*prefix, str(venv / "bin" / "pytest"), "-q", "-p", "no:cacheprovider", "python_tests"], log, env
    )
    summary = re.sub(r"^=+ | =+$| in [\d.]+s.*$", "", (tests.stdout.strip().splitlines() or ["no output"])[-1])
    ok = tests.returncode == 0
    seconds = f"provision {provisioned:.0f} s, tests {time.monotonic() - started - provisioned:.0f} s"
    gil_text = "GIL" if gil_enabled == "True" else "no GIL"
    return Result(
        name,
        ok,
        f"{'passed' if ok else 'FAILED'}  CPython {version} ({gil_text}): pytest {summary}; {seconds}",
    )


def report(results: list[Result], what: str) -> int:
    failed = [r.name for r in results if not r.ok]
    print(
        f"{what}: {len(results) - len(failed)} of {len(results)} passed"
        + (f"; failed: {' '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


def main(names: list[str]) -> int:
    if names == ["--ci"]:
        names = matrix.CI
    names = names or [i.name for i in matrix.INTERPRETERS if i.machine == os.uname().machine]
    unknown = [name for name in names if name not in matrix.BY_NAME]
    if unknown:
        sys.exit(f"test_all.py: error: unknown interpreter {' '.join(unknown)}; choose from {' '.join(matrix.BY_NAME)}")
    VENVS.mkdir(exist_ok=True)
    results = []
    for name in names:
        print(f"--- {name}", flush=True)
        results.append(run_suite(name, ".", VENVS / name))
        print(f"{name:<11} {results[-1].report}", flush=True)
    return report(results, "test-all")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
