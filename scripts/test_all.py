#!/usr/bin/env python3
"""make test-all: the pytest suite, the seed example and the fork stress on every CPython pyos supports.

    python3 scripts/test_all.py [NAME...]     NAME in 3.9 3.10 3.11 3.12 3.13 3.13t 3.14 (default: all)

3.9-3.13 are pyenv's (the newest patch release of each); 3.13t and 3.14 come from
scripts/interpreters.py, which provisions and caches them (3.14 runs in a Debian
root, whose GCC defaults to C23). For each interpreter: a venv in .venvs/NAME,
the test requirements and pyos from this tree installed into it, then the seed
example (exact stdout, empty stderr), the fork stress (500 forks, GOGC=1) and the
pytest suite. One line per interpreter, then a summary line; everything each one
printed is in .venvs/NAME.log.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / ".venvs"
MATRIX = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.13t", "3.14"]
FORKS = 500

sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "python_tests")]
import interpreters  # noqa: E402
import support  # noqa: E402  (the seed example's run)


def pyenv_python(name: str) -> Path | None:
    """The newest pyenv CPython of minor version name."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = []
    for version_dir in (pyenv_root / "versions").glob(f"{name}.*"):
        match = re.fullmatch(re.escape(name) + r"\.(\d+)", version_dir.name)
        if match and (version_dir / "bin" / "python3").is_file():
            found.append((int(match[1]), version_dir / "bin" / "python3"))
    return max(found)[1] if found else None


def command_for(name: str, python: str | None = None) -> tuple[list[str], float]:
    """The argv prefix that runs name's python (python, in a Debian root), and the seconds it took to provision.

    name is a name of scripts/interpreters.py, which provisions it, or a minor version under pyenv.
    """
    if name in interpreters.OFFERED:
        seconds = interpreters.provision(name)
        prefix = interpreters.command_prefix(name, python)
        if prefix is None:
            raise RuntimeError(f"{name} was provisioned but cannot be run")
        return prefix, seconds
    python = pyenv_python(name)
    if python is None:
        raise RuntimeError(f"no CPython {name} under pyenv ({os.environ.get('PYENV_ROOT', '~/.pyenv')}/versions)")
    return [str(python)], 0.0


def run_logged(cmd: list[str], log, **kwargs) -> subprocess.CompletedProcess[str]:
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    log.write(proc.stdout)
    log.flush()
    return proc


def pytest_summary(output: str) -> str:
    """pytest's last line without its rules and its time, e.g. "199 passed"."""
    summary = output.strip().splitlines()[-1] if output.strip() else "no output"
    return re.sub(r"^=+ | =+$| in [\d.]+s.*$", "", summary)


def last_json(stdout: str) -> dict | None:
    """The JSON object a run of this script or of dist.py's test-one prints last, or None if there is none."""
    try:
        return json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return None


def check_one(name: str, log_path: Path) -> dict[str, object]:
    """Run by name's own interpreter: set up its venv, run every check, return what was found."""
    venv = VENVS / name
    python = venv / "bin" / "python"
    result: dict[str, object] = {"python": sys.version.split()[0]}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "PYTHONPATH", "PYTHON_GIL")}
    with open(log_path, "w") as log:
        if not python.exists():
            run_logged([sys.executable, "-m", "venv", str(venv)], log, check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        for step in ([*pip, "-r", str(ROOT / "requirements-test.txt")], [*pip, "--force-reinstall", "--no-deps", "."]):
            if run_logged(step, log, cwd=ROOT, env=env).returncode != 0:
                result["setup"] = "failed"
                return result
        gil = "import sys, pyos; print(getattr(sys, '_is_gil_enabled', lambda: True)())"
        result["gil"] = (
            run_logged([str(python), "-c", gil], log, cwd=ROOT / "examples", env=env).stdout.strip() == "True"
        )
        cc = run_logged(["go", "env", "CC"], log).stdout.split()  # the compiler cgo used
        compiler = run_logged([cc[0] if cc else "gcc", "--version"], log).stdout.splitlines()
        result["compiler"] = compiler[0] if compiler else "?"

        seed = support.run_seed_example(str(python))
        log.write(f"$ {python} {support.SEED_EXAMPLE}\n{seed.stdout}{seed.stderr}")
        result["seed"] = support.seed_example_ok(seed)

        stress = run_logged(
            [str(python), str(ROOT / "python_tests" / "fork_stress.py"), str(FORKS)],
            log,
            env={**env, "GOGC": "1"},
            timeout=300,
        )
        result["fork_stress"] = last_json(stress.stdout) or {"error": stress.returncode}

        tests = run_logged(
            [str(venv / "bin" / "pytest"), "-q", "-p", "no:cacheprovider", "python_tests"], log, cwd=ROOT, env=env
        )
        result["pytest"] = pytest_summary(tests.stdout)
        result["pytest_ok"] = tests.returncode == 0
    return result


def passed(result: dict[str, object]) -> bool:
    stress = result.get("fork_stress") or {}
    return bool(
        result.get("pytest_ok")
        and result.get("seed")
        and isinstance(stress, dict)
        and stress.get("ok") == FORKS
        and stress.get("pool") == "ok"
    )


def line(name: str, result: dict[str, object], seconds: dict[str, float]) -> str:
    if "setup" in result:
        return f"{name:<6} FAILED  setting up the venv failed (.venvs/{name}.log)"
    stress = result.get("fork_stress") or {}
    stress_text = (
        f"fork stress {stress.get('ok')}/{FORKS} ok, {stress.get('hung')} hung, pool {stress.get('pool')}"
        if "ok" in stress
        else f"fork stress failed ({stress})"
    )
    gil = "GIL" if result.get("gil") else "no GIL"
    return (
        f"{name:<6} {'passed' if passed(result) else 'FAILED'}  CPython {result.get('python')} ({gil}, "
        f"{result.get('compiler')}): pytest {result.get('pytest')}; seed {'ok' if result.get('seed') else 'FAILED'}; "
        f"{stress_text}; provision {seconds['provision']:.0f} s, tests {seconds['tests']:.0f} s"
    )


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(check_one(argv[1], Path(argv[2]))))
        return 0
    names = argv or MATRIX
    unknown = [n for n in names if n not in MATRIX]
    if unknown:
        print(f"test_all.py: error: unknown interpreter {unknown}; choose from {' '.join(MATRIX)}", file=sys.stderr)
        return 2
    VENVS.mkdir(exist_ok=True)
    results = {}
    for name in names:
        print(f"--- CPython {name}", flush=True)
        seconds = {"provision": 0.0, "tests": 0.0}
        try:
            prefix, seconds["provision"] = command_for(name)
        except (RuntimeError, interpreters.Error) as err:
            print(f"{name:<6} FAILED  {err}", flush=True)
            results[name] = False
            continue
        log_path = VENVS / f"{name}.log"
        started = time.monotonic()
        proc = subprocess.run(
            [*prefix, str(Path(__file__).resolve()), "--one", name, str(log_path)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        seconds["tests"] = time.monotonic() - started
        result = last_json(proc.stdout) or {"setup": "failed"}
        results[name] = passed(result)
        print(line(name, result, seconds), flush=True)
    ok = sum(results.values())
    failed = [name for name, result in results.items() if not result]
    failures = f"; failed: {', '.join(failed)}" if failed else ""
    print(f"test-all: {ok} of {len(results)} interpreters passed{failures}")
    return 0 if ok == len(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
