#!/usr/bin/env python3
"""make dist, make test-wheels and make dist-check: the sdist and the wheels of scripts/matrix.py.

    python3 scripts/dist.py build    the sdist, then each wheel of matrix.WHEELS built from it, into dist/
    python3 scripts/dist.py test [NAME...]   each wheel of dist/ in a fresh venv of every interpreter it serves
                                     (or of those named), then pytest
    python3 scripts/dist.py check    what make test checks of a release: the x86_64 abi3 wheel built twice
                                     from the sdist, the second time with no Go module proxy and an empty
                                     module cache (byte-identical), its tags, abi3audit, licences, metadata
                                     and classifiers, the README's wheel table, and the seed example on it

Each wheel is built by its matrix builder (in a Debian root for aarch64, see interpreters.py), with
zig's C compiler as cgo's CC, linking against glibc 2.17, and SOURCE_DATE_EPOCH from the last
commit; auditwheel then tags it manylinux_2_17, and abi3audit checks every abi3 wheel. Tools come
from requirements-dist.txt, in .venvs/dist-tools.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import interpreters
import matrix
import test_all

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
TOOLS = ROOT / ".venvs" / "dist-tools"
REPOSITORY = "https://github.com/pyos-project/pyos/"


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, text=True, check=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def tools() -> Path:
    """The bin directory of the venv with requirements-dist.txt, made or brought up to date here."""
    wanted = (ROOT / "requirements-dist.txt").read_text()
    stamp = TOOLS / ".requirements"
    if not stamp.exists() or stamp.read_text() != wanted:
        commands = test_all.VenvCommands.of([], sys.executable, TOOLS)
        run(commands.make)
        run([*commands.install_tools, "-r", str(ROOT / "requirements-dist.txt")])
        stamp.write_text(wanted)
    return TOOLS / "bin"


def source_date_epoch() -> str:
    """The last commit's time: the same for every build of one commit."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return os.environ["SOURCE_DATE_EPOCH"]
    proc = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        sys.exit("dist.py: error: no git commit to date the release by; set SOURCE_DATE_EPOCH")
    return proc.stdout.strip()


def build_sdist(tree: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.tar.gz"))
    run([str(tools() / "python"), "-m", "build", "--sdist", "--outdir", str(out), str(tree)], cwd=tree)
    (sdist,) = set(out.glob("*.tar.gz")) - before
    return sdist


def build_wheel(wheel: matrix.Wheel, sdist: Path, out: Path, go_env: dict[str, str] | None = None) -> Path:
    """Build one wheel from the sdist with its builder (go_env added to Go's environment), tag it manylinux_2_17 and
    check it with abi3audit."""
    raw = out / ".raw" / wheel.name
    venv = ROOT / ".venvs" / f"build-{wheel.name}"
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    zig = next((TOOLS / "lib").glob("python3.*/site-packages/ziglang/zig"), None)
    if zig is None:
        sys.exit("dist.py: error: zig is missing from .venvs/dist-tools (requirements-dist.txt: ziglang)")
    env = dict(
        os.environ,
        CC=f"{zig} cc -target {wheel.machine}-linux-gnu.2.17",
        SOURCE_DATE_EPOCH=source_date_epoch(),
        ZIG_GLOBAL_CACHE_DIR=str(ROOT / "build" / "zig-cache"),
        PYOS_PASSENV="CC SOURCE_DATE_EPOCH ZIG_GLOBAL_CACHE_DIR",  # into a Debian root
    ) | (go_env or {})
    prefix, python = interpreters.command(wheel.builder)
    commands = test_all.VenvCommands.of(prefix, python, venv)
    run(commands.make, cwd=ROOT)
    run([*commands.pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(raw), str(sdist)], env=env, cwd=ROOT)
    (built,) = raw.glob("*.whl")
    if f"-{wheel.tag}-" not in built.name:
        sys.exit(f"dist.py: error: {wheel.builder} built {built.name}, not a {wheel.tag} wheel")
    # auditwheel judges only wheels of the machine it runs on: for another machine's wheel it runs beside the
    # builder, in its root. It has nothing to patch.
    auditwheel = [str(tools() / "auditwheel")]
    if wheel.machine != os.uname().machine:
        # The pin of requirements-dist.txt, read by pip (or uv) as a constraint.
        run([*commands.install_tools, "auditwheel", "-c", "requirements-dist.txt"], cwd=ROOT)
        auditwheel = [*prefix, str(venv / "bin" / "auditwheel")]
    before = set(out.glob("*.whl"))
    repair = [*auditwheel, "repair", "--only-plat", "--patcher", "none", "--plat", wheel.platform]
    run([*repair, "--wheel-dir", str(out), str(built)], env=env, cwd=ROOT)  # SOURCE_DATE_EPOCH: its zip times
    (repaired,) = set(out.glob("*.whl")) - before
    shutil.rmtree(raw)
    glibc = audited_glibc(repaired, auditwheel)
    if glibc > (2, 17):
        sys.exit(f"dist.py: error: {repaired.name} needs glibc {glibc}, newer than manylinux2014's 2.17")
    if wheel.tag.endswith("abi3"):
        run([str(tools() / "abi3audit"), "--strict", "--report", str(repaired)])
    return repaired


def audited_glibc(path: Path, auditwheel: list[str]) -> tuple[int, int]:
    """The newest glibc a wheel needs, by auditwheel show's most compatible manylinux tag."""
    show = run([*auditwheel, "show", str(path)], capture_output=True, cwd=ROOT).stdout
    found = re.search(r'platform tag:\s+"manylinux_(\d+)_(\d+)_', show)
    if found is None:
        sys.exit(f"dist.py: error: auditwheel show found no manylinux tag for {path.name}:\n{show}")
    return int(found[1]), int(found[2])


def wheel_for(path: Path) -> matrix.Wheel:
    """The matrix wheel a file of dist/ is."""
    for wheel in matrix.WHEELS:
        if f"-{wheel.tag}-" in path.name and path.name.endswith(f"{wheel.machine}.whl"):
            return wheel
    sys.exit(f"dist.py: error: {path.name} is no wheel of scripts/matrix.py")


def cmd_build() -> int:
    tools()
    shutil.rmtree(DIST, ignore_errors=True)
    started = time.monotonic()
    sdist = build_sdist(ROOT, DIST)
    for wheel in matrix.WHEELS:
        built_at = time.monotonic()
        path = build_wheel(wheel, sdist, DIST)
        print(f"built {path.name} in {time.monotonic() - built_at:.0f} s", flush=True)
    shutil.rmtree(DIST / ".raw", ignore_errors=True)
    print(f"dist: {sdist.name} and {len(matrix.WHEELS)} wheels in {time.monotonic() - started:.0f} s")
    for path in sorted(DIST.iterdir()):
        print(f"  {path.stat().st_size / 1e6:6.2f} MB  {path.name}")
    return 0


def cmd_test(names: list[str]) -> int:
    wheels = sorted(DIST.glob("*.whl"))
    if not wheels:
        sys.exit("dist.py: error: no wheels in dist/; run make dist first")
    results = []
    for path in wheels:
        for interpreter in [i for i in wheel_for(path).testers if not names or i.name in names]:
            name = f"{wheel_for(path).name}-on-{interpreter.name}"
            print(f"--- {path.name} on {interpreter.name}", flush=True)
            results.append(test_all.run_suite(interpreter.name, str(path), ROOT / ".venvs" / f"wheel-{name}"))
            print(f"{name:<32} {results[-1].report}", flush=True)
    return test_all.report(results, "test-wheels")


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
    wheel = matrix.WHEELS[0]  # x86_64 abi3, which this machine builds natively
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        sdist = build_sdist(copy_tree(tmp_path / "pyos"), tmp_path / "dist")
        first = build_wheel(wheel, sdist, tmp_path / "first")
        results.append(check_wheel(first, wheel, [tmp_path, ROOT]))
        results.append(check_sdist(sdist))
        results.append(check_readme())
        # The second build is offline: it proves the sdist needs no module proxy, and, as pip unpacks the sdist
        # into a directory of its own each time, that the build depends on no path.
        modcache = tmp_path / "empty-module-cache"
        modcache.mkdir()
        offline_go = {"GOPROXY": "off", "GOMODCACHE": str(modcache), "GOFLAGS": "", "GOTOOLCHAIN": "local"}
        try:
            second = build_wheel(wheel, sdist, tmp_path / "offline", offline_go)
        except subprocess.CalledProcessError as err:
            what = "the wheel built from the sdist with GOPROXY=off and an empty module cache"
            results.append(check(what, False, f"{err.cmd[-1]} failed, its output above"))
        else:
            digests = [hashlib.sha256(path.read_bytes()).hexdigest() for path in (first, second)]
            results.append(
                check("built again offline, the wheel is byte-identical", digests[0] == digests[1], str(digests))
            )
            results.append(check_seed_example(second, tmp_path / "seed"))
    failed = results.count(False)
    print(f"dist-check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def check_wheel(path: Path, wheel: matrix.Wheel, build_paths: list[Path]) -> bool:
    glibc = audited_glibc(path, [str(tools() / "auditwheel")])
    ok = check("auditwheel show: manylinux_2_17", glibc <= (2, 17), path.name)
    ok &= check(
        f"tagged {wheel.tag}-{wheel.platform}", f"-{wheel.tag}-" in path.name and wheel.platform in path.name, path.name
    )
    audit = subprocess.run(
        [str(tools() / "abi3audit"), "--strict", "--report", str(path)], capture_output=True, text=True
    )
    ok &= check("abi3audit: only the stable ABI", audit.returncode == 0, audit.stdout + audit.stderr)
    with zipfile.ZipFile(path) as whl:
        names = whl.namelist()
        metadata = whl.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        library = whl.read(next(n for n in names if n.endswith(".so")))
    licences = sorted(n.split(".dist-info/licenses/")[1] for n in names if ".dist-info/licenses/" in n and n[-1] != "/")
    expected = sorted(["LICENSE", *(f"licenses/{p.name}" for p in (ROOT / "licenses").iterdir())])
    ok &= check("the wheel holds pyos's licence and those of what it links", licences == expected, str(licences))
    fields = ("License-Expression: BSD-3-Clause", "License-File: LICENSE", "Project-URL: Source")
    ok &= check("metadata: License-Expression, License-File, Project-URL", all(f in metadata for f in fields))
    classifiers = {line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Classifier: ")}
    python = {c for c in classifiers if re.match(r"Programming Language :: Python :: (3\.\d+|Free Threading)", c)}
    ok &= check(
        "classifiers: a CPython version per interpreter of matrix.py", python == matrix.classifiers(), str(python)
    )
    leaked = [str(p) for p in (sys.prefix, sys.base_prefix, *build_paths) if str(p).encode() in library]
    ok &= check("no path of the build machine in the extension", not leaked, str(leaked))
    twine = subprocess.run([str(tools() / "twine"), "check", "--strict", str(path)], capture_output=True, text=True)
    return ok & check("twine check: the README renders on PyPI", twine.returncode == 0, twine.stdout + twine.stderr)


def check_readme() -> bool:
    """PyPI shows the README with no files around it: every link is absolute, or an anchor of the page; and its
    table of wheels is matrix.py's."""
    readme = (ROOT / "README.md").read_text()
    anchors = {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", readme, flags=re.M)
    }
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", readme):
        if target.startswith("#"):
            ok = target[1:] in anchors
        elif target.startswith(REPOSITORY):  # blob/main/PATH or tree/main/PATH must name a file of this tree
            path = re.sub(r"^(blob|tree|raw)/main/", "", target[len(REPOSITORY) :]).split("#")[0]
            ok = path == "" or (ROOT / path).exists()
        else:
            ok = target.startswith("https://")
        if not ok:
            broken.append(target)
    ok = check("README: links absolute, into this tree, or to its own headings", not broken, str(broken))
    table = matrix.readme_table()
    return ok & check("README: the table of wheels is scripts/matrix.py's", table in readme, "\n" + table)


def check_sdist(sdist: Path) -> bool:
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    needed = ["go.mod", "go.sum", "build.py", "LICENSE", "extension/pyos_module.c", "extension/exports.map"]
    needed += ["vendor/modules.txt", "vendor/github.com/go-python/gopy/gopyh/handle.go"]
    missing = [name for name in needed if name not in names]
    return check("the sdist holds the sources, the licences and vendor/ (gopy included)", not missing, str(missing))


def check_seed_example(path: Path, where: Path) -> bool:
    """The seed example in a fresh venv holding only the wheel at path."""
    venv = where / "venv"
    commands = test_all.VenvCommands.of([], sys.executable, venv)
    subprocess.run(commands.make, check=True)
    install = subprocess.run(
        [*commands.pip, "install", "--quiet", "--no-deps", str(path)], capture_output=True, text=True
    )
    if not check(f"pip install {path.name} into a fresh venv", install.returncode == 0, install.stderr[-2000:]):
        return False
    example = ROOT / "examples" / "seed_example.py"
    env = {
        k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"
    }  # it would make the two processes' lines race
    seed = subprocess.run(
        [str(venv / "bin" / "python"), str(example)], capture_output=True, text=True, env=env, cwd=example.parent
    )
    expected = (ROOT / "examples" / "seed_example.out").read_text()
    ok = seed.returncode == 0 and seed.stdout == expected and seed.stderr == ""
    return check("the seed example on that wheel: its output, nothing on stderr", ok, seed.stdout + seed.stderr)


def main(argv: list[str]) -> int:
    if argv[:1] == ["test"]:
        return cmd_test(argv[1:])
    if argv == ["build"]:
        return cmd_build()
    if argv == ["check"]:
        return cmd_check()
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
