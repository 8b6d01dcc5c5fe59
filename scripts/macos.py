#!/usr/bin/env python3
"""make macos-wheels and make macos-check: the macOS wheels, linked on Linux, and what can be checked of them here.

    python3 scripts/macos.py build    the sdist, then from it a cp39-abi3 wheel for macOS arm64 and one for x86_64,
                                      into build/macos (not published: the workflow's, tested on a Mac, are)
    python3 scripts/macos.py check    each wheel of build/macos: its tag, and of its Mach-O the architecture,
                                      LC_BUILD_VERSION's minos, the exports (only the module's init), the libraries
                                      it loads (the system's only; no rpath), what it leaves to the loader's flat
                                      lookup (CPython's C API only), no path of the build machine, the code
                                      signature's hashes (and that this check finds a flipped byte); abi3audit --strict
    python3 scripts/macos.py check-macho FILE ARCH    the Mach-O checks on one library, as a check by hand

build.py links for macOS on Linux with zig's C compiler and LLVM's ld64.lld (build.py's macos_cross_cc);
the builder is the Linux abi3 wheel's, CPython 3.9, whose headers and pip build the wheels, tagged
macosx_<minos>_<arch> (setuptools takes the platform from _PYTHON_HOST_PLATFORM), where minos is
`build.py --print-macos-deployment-target`. Two wheels rather than universal2: each Mac downloads its own
architecture, and the workflow's runners build one per architecture. The tools come from Debian:
ld64.lld-19 (lld-19) and llvm-objdump-19 and llvm-nm-19 (llvm-19), installed with apt-get when missing;
the rest from requirements-dist.txt, in .venvs/dist-tools. There is no codesign on Linux: the signature
is checked by verify_code_signature, which recomputes every page hash of the CodeDirectory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import dist
import interpreters
import matrix
import test_all

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "macos"
VENV = ROOT / ".venvs" / "build-macos"
BUILDER = matrix.WHEELS[0].builder  # the x86_64 abi3 wheel's: the stable ABI's oldest CPython, 3.9
ARCHS = {"arm64": "arm64", "x86_64": "amd64"}  # the wheel's architecture: GOARCH
INIT = "_PyInit__pyosgo"
# Debian's packages of the tools, by the command this script or build.py runs.
DEBIAN_TOOLS = {"ld64.lld-19": "lld-19", "llvm-objdump-19": "llvm-19", "llvm-nm-19": "llvm-19"}
# Where a macOS library may load from: the system's libraries and frameworks (libSystem; libresolv, which Go's
# runtime asks for; CoreFoundation, which runtime/cgo asks for on arm64).
SYSTEM_LIBRARY = re.compile(
    r"^(/usr/lib/lib[\w.+-]+\.dylib|/System/Library/Frameworks/\w+\.framework/Versions/\w+/\w+)$"
)
LOAD_COMMANDS = (
    "LC_LOAD_DYLIB",
    "LC_LOAD_WEAK_DYLIB",
    "LC_REEXPORT_DYLIB",
    "LC_LAZY_LOAD_DYLIB",
    "LC_LOAD_UPWARD_DYLIB",
)


def ensure_tools() -> None:
    """Install the Debian packages of the tools that are missing (interpreters.apt_install echoes apt-get)."""
    missing = [tool for tool in DEBIAN_TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    packages = sorted({DEBIAN_TOOLS[tool] for tool in missing})
    what = f"{', '.join(missing)} (Debian: {' '.join(packages)})"
    if shutil.which("apt-get") is None:
        sys.exit(f"macos.py: error: {what} missing, and there is no apt-get to install them")
    print(f"macos.py: {what} missing: installing", flush=True)
    try:
        interpreters.apt_install(packages)
    except (interpreters.Error, OSError) as err:
        sys.exit(f"macos.py: error: {what} missing, and installing them failed: {err}")


def deployment_target() -> str:
    """The oldest macOS, as build.py decides it from go.mod (its one home)."""
    command = [sys.executable, str(ROOT / "build.py"), "--print-macos-deployment-target"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def platform_tag(arch: str, target: str) -> str:
    return f"macosx_{target.replace('.', '_')}_{arch}"


def cmd_build() -> int:
    ensure_tools()
    dist.tools()
    started = time.monotonic()
    shutil.rmtree(OUT, ignore_errors=True)
    target = deployment_target()
    zig = next((dist.TOOLS / "lib").glob("python3.*/site-packages/ziglang/zig"), None)
    if zig is None:
        sys.exit("macos.py: error: zig is missing from .venvs/dist-tools (requirements-dist.txt: ziglang)")
    with tempfile.TemporaryDirectory() as tmp:
        sdist = dist.build_sdist(ROOT, Path(tmp))
        prefix, python = interpreters.command(BUILDER)
        commands = test_all.VenvCommands.of(prefix, python, VENV)
        dist.run(commands.make, cwd=ROOT)
        for arch, goarch in ARCHS.items():
            built_at = time.monotonic()
            raw = Path(tmp) / arch
            env = dict(
                os.environ,
                GOOS="darwin",
                GOARCH=goarch,
                CC=f"{zig} cc",  # build.py adds the target: the architecture and the oldest macOS
                MACOSX_DEPLOYMENT_TARGET=target,
                _PYTHON_HOST_PLATFORM=f"macosx-{target}-{arch}",  # sysconfig.get_platform(): the wheel's tag
                SOURCE_DATE_EPOCH=dist.source_date_epoch(),
                ZIG_GLOBAL_CACHE_DIR=str(ROOT / "build" / "zig-cache"),
            )
            wheel_command = [*commands.pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(raw), str(sdist)]
            dist.run(wheel_command, env=env, cwd=ROOT)
            (built,) = raw.glob("*.whl")
            expected = f"-cp39-abi3-{platform_tag(arch, target)}.whl"
            if not built.name.endswith(expected):
                sys.exit(f"macos.py: error: {BUILDER} built {built.name}, not a wheel ending {expected}")
            OUT.mkdir(parents=True, exist_ok=True)
            shutil.move(built, OUT / built.name)
            print(f"built {built.name} in {time.monotonic() - built_at:.0f} s", flush=True)
    print(f"macos-wheels: 2 wheels in {time.monotonic() - started:.0f} s, in {OUT.relative_to(ROOT)}")
    for path in sorted(OUT.glob("*.whl")):
        print(f"  {path.stat().st_size / 1e6:6.2f} MB  {path.name}")
    return 0


# The code signature, read as Apple's cs_blobs.h lays it out (big-endian blobs in __LINKEDIT).
LC_CODE_SIGNATURE = 0x1D
MH_MAGIC_64 = 0xFEEDFACF
SUPERBLOB_MAGIC = 0xFADE0CC0  # CSMAGIC_EMBEDDED_SIGNATURE
CODEDIRECTORY_MAGIC = 0xFADE0C02
CS_ADHOC = 0x2
# CodeDirectory hashType: the hash and the bytes of it stored.
HASH_TYPES = {1: ("sha1", 20), 2: ("sha256", 32), 3: ("sha256", 20), 4: ("sha384", 48)}
# Special slots whose blob sits in the SuperBlob (requirements, entitlements, DER entitlements); the others
# (Info.plist, resources) name files a bare library has not, and stay zero.
EMBEDDED_SPECIAL_SLOTS = {2, 5, 7}


def load_commands(data: bytes) -> Iterator[tuple[int, int]]:
    """(cmd, offset) of each load command of a thin 64-bit little-endian Mach-O."""
    magic, _, _, _, ncmds = struct.unpack_from("<IiiII", data, 0)
    if magic != MH_MAGIC_64:
        raise ValueError(f"not a thin 64-bit Mach-O (magic {magic:#x})")
    offset = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, offset)
        yield cmd, offset
        offset += size


def verify_code_signature(data: bytes) -> tuple[list[str], str]:
    """What is wrong with a Mach-O's embedded code signature (nothing, if the list is empty), and what it is.

    Every CodeDirectory's page hashes are recomputed over the file up to its codeLimit, which must be where the
    signature starts (so that every byte before it is covered); its special slots hold the hashes of the blobs of
    the SuperBlob, or zeros; nothing may follow the signature.
    """
    found = [offset for cmd, offset in load_commands(data) if cmd == LC_CODE_SIGNATURE]
    if len(found) != 1:
        return [f"{len(found)} LC_CODE_SIGNATURE load commands"], ""
    dataoff, datasize = struct.unpack_from("<II", data, found[0] + 8)
    problems = []
    if dataoff + datasize != len(data):
        problems.append(f"the signature ends at {dataoff + datasize}, the file at {len(data)}")
    blob = data[dataoff : dataoff + datasize]
    magic, _, count = struct.unpack_from(">III", blob, 0)
    if magic != SUPERBLOB_MAGIC:
        return [*problems, f"no embedded-signature SuperBlob (magic {magic:#x})"], ""
    index = dict(struct.unpack_from(">II", blob, 12 + 8 * i) for i in range(count))
    blobs = {kind: blob[at : at + struct.unpack_from(">I", blob, at + 4)[0]] for kind, at in index.items()}
    directories = [kind for kind in index if kind == 0 or 0x1000 <= kind < 0x1005]
    if 0 not in directories:
        problems.append("no CodeDirectory")
    described = []
    for kind in directories:
        cd = blobs[kind]
        magic, _, version, flags, hash_offset, ident_offset, n_special, n_code, limit = struct.unpack_from(">9I", cd, 0)
        hash_size, hash_type, _, page_bits = struct.unpack_from(">4B", cd, 36)
        if version >= 0x20300 and struct.unpack_from(">Q", cd, 56)[0]:
            limit = struct.unpack_from(">Q", cd, 56)[0]
        name = f"CodeDirectory {kind:#x}"
        if magic != CODEDIRECTORY_MAGIC or hash_type not in HASH_TYPES:
            problems.append(f"{name}: magic {magic:#x}, hash type {hash_type}")
            continue
        algorithm, size = HASH_TYPES[hash_type]
        if hash_size != size:
            problems.append(f"{name}: {hash_size}-byte hashes of type {hash_type}")
            continue
        page = 1 << page_bits if page_bits else limit
        if limit != dataoff:
            problems.append(f"{name}: codeLimit {limit}, but the signature starts at {dataoff}")
        if n_code != -(-limit // page):
            problems.append(f"{name}: {n_code} page hashes for {limit} bytes in pages of {page}")
        bad = []
        for i in range(n_code):
            stored = cd[hash_offset + i * size : hash_offset + (i + 1) * size]
            if hashlib.new(algorithm, data[i * page : min((i + 1) * page, limit)]).digest()[:size] != stored:
                bad.append(i)
        if bad:
            problems.append(f"{name}: {len(bad)} of {n_code} page hashes wrong, pages {bad[:5]}")
        for slot in range(1, n_special + 1):
            stored = cd[hash_offset - slot * size : hash_offset - (slot - 1) * size]
            if slot in EMBEDDED_SPECIAL_SLOTS and slot in blobs:
                expected = hashlib.new(algorithm, blobs[slot]).digest()[:size]
            else:
                expected = bytes(size)
            if stored != expected:
                problems.append(f"{name}: special slot -{slot} does not hold the hash of its blob")
        if not flags & CS_ADHOC:
            problems.append(f"{name}: not ad hoc (flags {flags:#x})")
        identifier = cd[ident_offset : cd.index(b"\0", ident_offset)].decode()
        described.append(f"{algorithm} ad hoc, {n_code} pages of {page} bytes, identifier {identifier!r}")
    return problems, "; ".join(described)


def llvm(tool: str, *args: str) -> str:
    return subprocess.run([f"{tool}-19", *args], capture_output=True, text=True, check=True).stdout


def check(name: str, condition: bool, detail: str = "") -> bool:
    print(f"{'ok    ' if condition else 'FAILED'}  {name}{': ' + detail if detail else ''}", flush=True)
    return condition


def check_macho(path: Path, arch: str, target: str, build_paths: list[str]) -> list[bool]:
    """The checks of one Mach-O library (the module docstring's list), one result each."""
    data = path.read_bytes()
    results = []
    header = llvm("llvm-objdump", "--macho", "--private-header", str(path)).split()
    cpu = {"ARM64": "arm64", "X86_64": "x86_64"}.get(header[header.index("MH_MAGIC_64") + 1], "?")
    kind = header[header.index("MH_MAGIC_64") + 4]  # after magic: cputype, cpusubtype, caps, filetype
    results.append(check(f"architecture {arch}, a dylib", cpu == arch and kind == "DYLIB", f"{cpu}, {kind}"))

    commands = llvm("llvm-objdump", "--macho", "--private-headers", str(path))
    fields = [dict(re.findall(r"^\s*(\w+) (.+?)\s*$", text, re.M)) for text in commands.split("Load command ")[1:]]
    builds = [f for f in fields if f.get("cmd") == "LC_BUILD_VERSION"]
    minos = [f"{f.get('platform')} {f.get('minos')} (sdk {f.get('sdk')})" for f in builds]
    ok = len(builds) == 1 and builds[0].get("platform", "").lower() == "macos" and builds[0].get("minos") == target
    results.append(check(f"LC_BUILD_VERSION: macOS, minos {target}", ok, ", ".join(minos)))

    trie = llvm("llvm-objdump", "--macho", "--exports-trie", str(path))
    exports = re.findall(r"^0x[0-9A-Fa-f]+\s+(\S+)", trie, re.M)
    results.append(check(f"exports trie: {INIT} alone", exports == [INIT], " ".join(exports)))

    loads = [f.get("name", "").split(" (offset")[0] for f in fields if f.get("cmd") in LOAD_COMMANDS]
    foreign = [name for name in loads if not SYSTEM_LIBRARY.match(name) or "python" in name.lower()]
    rpaths = [f.get("path", "").split(" (offset")[0] for f in fields if f.get("cmd") == "LC_RPATH"]
    ids = [f.get("name", "").split(" (offset")[0] for f in fields if f.get("cmd") == "LC_ID_DYLIB"]
    ok = bool(loads) and not foreign and not rpaths and all("/" not in name for name in ids)
    detail = ", ".join(loads) + (f"; not the system's: {foreign}" if foreign else "")
    detail += (f"; LC_RPATH {rpaths}" if rpaths else "") + f"; install name {', '.join(ids)}"
    results.append(check("loads the system's libraries only, no rpath, no path as its install name", ok, detail))

    undefined = llvm("llvm-nm", "-m", "-u", str(path))
    flat = re.findall(r"external (\S+) \(dynamically looked up\)", undefined)
    bound = re.findall(r"external \S+ \(from (\S+)\)", undefined)
    others = [name for name in flat if not name.startswith(("_Py", "__Py"))]
    detail = f"{len(flat)} of CPython's C API left to the loader, {len(bound)} bound to {sorted(set(bound))}"
    results.append(
        check("only CPython's C API left to flat lookup", not others, detail + (f"; not: {others}" if others else ""))
    )

    leaked = [p for p in build_paths if p.encode() in data]
    results.append(check("no path of the build machine in the library", not leaked, ", ".join(leaked)))

    problems, described = verify_code_signature(data)
    results.append(check("code signature: every page hash right", not problems, "; ".join(problems) or described))
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01  # a byte of the signed range: the check must find it
    caught, _ = verify_code_signature(bytes(flipped))
    results.append(check("the signature check finds a flipped byte", bool(caught), "; ".join(caught)))
    return results


def abi3audit_verdict(report: str) -> str:
    """abi3audit's JSON report, in short: each extension's verdict."""
    try:
        specs = json.loads(report)["specs"].values()
        results = [(ext["name"], ext["result"]) for spec in specs for ext in spec["wheel"]]
    except (ValueError, KeyError, TypeError):
        return report[-2000:]
    return "; ".join(
        f"{name}: abi3 {result['is_abi3']}, stable ABI of {result['computed']} (baseline {result['baseline']}), "
        f"symbols outside it {result['non_abi3_symbols']}"
        for name, result in results
    )


def cmd_check() -> int:
    ensure_tools()
    target = deployment_target()
    wheels = sorted(OUT.glob("*.whl"))
    if len(wheels) != len(ARCHS):
        sys.exit(f"macos.py: error: {len(wheels)} wheels in {OUT}, not {len(ARCHS)}; run make macos-wheels first")
    results = []
    build_paths = [str(ROOT), str(VENV), sys.prefix, sys.base_prefix, "/tmp/pip-"]
    with tempfile.TemporaryDirectory() as tmp:
        for wheel in wheels:
            arch = next((a for a in ARCHS if wheel.name.endswith(f"_{a}.whl")), "?")
            print(f"--- {wheel.name} ({wheel.stat().st_size / 1e6:.2f} MB)", flush=True)
            tag = f"-cp39-abi3-{platform_tag(arch, target)}.whl"
            results.append(check(f"tagged cp39-abi3-{platform_tag(arch, target)}", wheel.name.endswith(tag)))
            with zipfile.ZipFile(wheel) as whl:
                libraries = [n for n in whl.namelist() if whl.read(n)[:4] == struct.pack("<I", MH_MAGIC_64)]
                results.append(check("one Mach-O: pyos/_pyosgo.abi3.so", libraries == ["pyos/_pyosgo.abi3.so"]))
                for name in libraries:
                    results += check_macho(Path(whl.extract(name, Path(tmp) / arch)), arch, target, build_paths)
            audit = subprocess.run(
                [str(dist.tools() / "abi3audit"), "--strict", "--report", str(wheel)], capture_output=True, text=True
            )
            results.append(check("abi3audit --strict", audit.returncode == 0, abi3audit_verdict(audit.stdout)))
    failed = results.count(False)
    print(f"macos-check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if argv == ["build"]:
        return cmd_build()
    if argv == ["check"]:
        return cmd_check()
    if argv[:1] == ["check-macho"] and len(argv) == 3:
        ensure_tools()
        results = check_macho(Path(argv[1]), argv[2], deployment_target(), [str(ROOT)])
        return 1 if False in results else 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
