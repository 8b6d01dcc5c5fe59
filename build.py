#!/usr/bin/env python3
"""Build the pyos CPython extension from the Go binding with gopy.

    python build.py [--python PY] [--tags TAG,...] [--dest DIR]
    python build.py --print-macos-deployment-target

Steps, each echoed before it runs:
  1. `go tool gopy gen` writes the cgo stubs and the pybindgen script for
     ./binding, with the link flags pyos decides (gopy_link_flags), and
     check_gopy_output checks what pyos assumes of its output;
     extension/sortfuncs puts the stubs' functions in order of name (gopy's
     order changes from run to run);
  2. extension/pyos_module.c and .h, pyos's Python-facing functions, join the
     generated cgo package, and `go tool goimports` completes the stubs' imports
     (gopy would look for goimports on PATH);
  3. a first `go build -buildmode=c-shared` writes the header of the Go exports;
  4. gopy's pybindgen script, run by the target interpreter through
     extension/run_pybindgen.py, writes the module's C source, whose init
     function calls pyos_module_init (pybindgen's after_init hook);
  5. the final `go build -buildmode=c-shared` links Go, gopy's wrappers and
     pyos_module.c into one extension module, `_pyosgo<EXT_SUFFIX>`, copied into DIR.

gopy's generated stubs are rewritten only by Go's own tools, sortfuncs and
goimports, which reorder functions and add imports; pybindgen's script runs
unchanged, and pyos's C joins it through pybindgen's public hooks. gopy's own
`build` command is not used: it needs goimports on PATH and links libpython, and
a wheel must not (the interpreter provides the symbols). gopy's generated Python
wrapper is not shipped: it calls os.chdir at import.

On a CPython with the GIL the extension is built for the stable ABI
(Py_LIMITED_API 3.9, `_pyosgo.abi3.so`), which every later CPython loads; the
names of the full API that gopy's and pybindgen's C use are given by
extension/limited_api_compat.h. A free-threaded CPython loads no abi3 extension,
so there it is built for that one version.

For macOS (GOOS=darwin) on Linux, CC is zig's cc and the link is LLVM's ld64.lld
(macos_cross_cc): only PyInit__pyosgo exported, -undefined dynamic_lookup, an
ad-hoc signature, for the oldest macOS that go.mod's Go runs on
(MACOS_DEPLOYMENT_TARGET, printed by --print-macos-deployment-target).

`python -m build` in this directory runs PyPA's build frontend, as anywhere else.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
BINDING_IMPORT_PATH = "github.com/pyos-project/pyos/binding"
SORTFUNCS = "github.com/pyos-project/pyos/extension/sortfuncs"
EXTENSION_SOURCES = ROOT / "extension"
EXTENSION_TAG = "pyos_extension"
EXPORTS_MAP = EXTENSION_SOURCES / "exports.map"
MODULE_NAME = "pyosgo"  # gopy names the extension module _pyosgo
INIT_FUNCTION = f"PyInit__{MODULE_NAME}"
GO_MOD = ROOT / "go.mod"
# The stable ABI's oldest CPython, as Py_LIMITED_API; the wheel's tag (cp39) is made from it.
LIMITED_API_VERSION = 0x03090000
LIMITED_API_TAG = f"cp{LIMITED_API_VERSION >> 24}{(LIMITED_API_VERSION >> 16) & 0xFF}"
# pyos/version.go's Version: the release of the Go package and of the distribution, read by go_package_version.
VERSION_GO = ROOT / "pyos" / "version.go"
# The oldest macOS that Go's runtime supports, by Go release (Go's release notes; Go 1.27: golang/go#75836).
# A release absent here has its predecessor's; add one when go.mod's go line moves to a release that raises it.
GO_MIN_MACOS = {(1, 26): (12, 0), (1, 27): (13, 0)}
# Go's c-shared libraries cannot be loaded under musl; the issues that would fix it.
MUSL_ISSUES = ("https://github.com/golang/go/issues/54805", "https://github.com/golang/go/issues/13492")

# The generated code's path must be inside the Go module, and a leading "_"
# keeps it out of `go vet ./...` and `go test ./...`.
WORK_ROOT = ROOT / "build" / "_gopy"


def go_package_version() -> str:
    """The release that pyos/version.go names, the one source of the version (setup.py's, the tests')."""
    match = re.search(r'^const Version = "([^"]+)"$', VERSION_GO.read_text(), re.M)
    if match is None:
        raise BuildError(f'no `const Version = "..."` in {VERSION_GO}')
    return match[1]


class BuildError(Exception):
    """A build step failed; the message says what is missing or what failed."""


def go_directive(go_mod: str) -> tuple[int, int]:
    """The Go release (major, minor) a go.mod's `go` line names, given its text: the oldest Go that builds pyos."""
    match = re.search(r"^go\s+(\d+)\.(\d+)", go_mod, re.M)
    if match is None:
        raise BuildError("go.mod has no `go` line naming the Go release it needs")
    return int(match[1]), int(match[2])


def oldest_macos(go_release: tuple[int, int]) -> tuple[int, int]:
    """The oldest macOS the runtime of a Go release runs on (GO_MIN_MACOS)."""
    known = [release for release in GO_MIN_MACOS if release <= go_release]
    if not known:
        raise BuildError(f"Go {'.'.join(map(str, go_release))} is older than every release of GO_MIN_MACOS")
    return GO_MIN_MACOS[max(known)]


def macos_deployment_target_of(go_mod: str) -> str:
    """The one home of macOS's minimum: the oldest macOS that the Go of go.mod's `go` line runs on, as "12.0".

    build.py links for it, the macOS wheels are tagged with it, and
    `build.py --print-macos-deployment-target` prints it for cibuildwheel's MACOSX_DEPLOYMENT_TARGET.
    """
    return ".".join(map(str, oldest_macos(go_directive(go_mod))))


MIN_GO = go_directive(GO_MOD.read_text())
MACOS_DEPLOYMENT_TARGET = macos_deployment_target_of(GO_MOD.read_text())


def echo(message: str) -> None:
    print(message, flush=True)


def run(cmd: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    """Run cmd, echoing it, and return its stdout; fail with its output on a non-zero exit."""
    echo(f"$ {shlex.join(cmd)}" + (f"   (in {cwd})" if cwd != ROOT else ""))
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise BuildError(f"`{shlex.join(cmd)}` failed with exit status {proc.returncode}:\n{proc.stdout}")
    return proc.stdout


def go_version(go: str) -> tuple[int, int]:
    out = subprocess.run([go, "env", "GOVERSION"], stdout=subprocess.PIPE, text=True).stdout.strip()
    match = re.match(r"go(\d+)\.(\d+)", out)
    if match is None:
        raise BuildError(f"cannot tell the version of the Go toolchain {go}: `go env GOVERSION` said {out!r}")
    return int(match[1]), int(match[2])


def check_go() -> str:
    go = shutil.which("go")
    if go is None:
        raise BuildError(
            "Go toolchain not found: pyos compiles its extension from Go sources. "
            f"Install Go {'.'.join(map(str, MIN_GO))} or newer (https://go.dev/dl/) and put `go` on PATH."
        )
    version = go_version(go)
    if version < MIN_GO:
        raise BuildError(
            f"Go {'.'.join(map(str, MIN_GO))} or newer is needed; {go} is Go {'.'.join(map(str, version))}."
        )
    return go


def check_c_compiler(go: str) -> None:
    cc = subprocess.run([go, "env", "CC"], stdout=subprocess.PIPE, text=True).stdout.strip() or "gcc"
    if shutil.which(shlex.split(cc)[0]) is None:
        raise BuildError(f"C compiler `{cc}` not found: cgo needs one to build the extension (install gcc or clang).")


def python_config(python: str) -> dict[str, Any]:
    """Ask the target interpreter for its headers, ABI, extension suffix and pybindgen."""
    probe = (
        "import json, sysconfig, importlib.util\n"
        "print(json.dumps({'include': sysconfig.get_path('include'),"
        " 'ext_suffix': sysconfig.get_config_var('EXT_SUFFIX'),"
        " 'soabi': sysconfig.get_config_var('SOABI') or '',"
        " 'host': sysconfig.get_config_var('HOST_GNU_TYPE') or '',"
        " 'gil_disabled': bool(sysconfig.get_config_var('Py_GIL_DISABLED')),"
        " 'multiarch': sysconfig.get_config_var('MULTIARCH') or '',"
        " 'pybindgen': importlib.util.find_spec('pybindgen') is not None}))"
    )
    try:
        out = subprocess.run([python, "-c", probe], stdout=subprocess.PIPE, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        raise BuildError(f"cannot run the target Python interpreter {python}: {err}") from err
    cfg: dict[str, Any] = json.loads(out)
    return cfg


def check_python_build_requirements(python: str, cfg: dict[str, Any]) -> None:
    header = Path(cfg["include"]) / "Python.h"
    if not header.is_file():
        raise BuildError(
            f"Python headers not found: {header} is missing. "
            "Install the development headers for this interpreter (e.g. python3-dev)."
        )
    if not cfg["pybindgen"]:
        raise BuildError(
            f"pybindgen is not installed for {python}: gopy needs it to generate the CPython wrapper. "
            "Run `pip install pybindgen` (pip install . declares it as a build requirement)."
        )


def check_libc(cfg: dict[str, Any]) -> None:
    """Refuse, before anything is built, an interpreter on musl, where Go's c-shared libraries cannot load."""
    if "musl" in cfg["soabi"] or "musl" in cfg["host"]:
        raise BuildError(
            "this Python runs on musl libc (" + (cfg["soabi"] or cfg["host"]) + "), where pyos is not supported: "
            "a Go library built with -buildmode=c-shared, as pyos's extension is, cannot be loaded by a musl "
            f"process ({MUSL_ISSUES[0]}: initial-exec TLS; {MUSL_ISSUES[1]}: argc/argv in shared-library init). "
            "Use a glibc-based system (pyos has manylinux wheels), or os.pipe2, which CPython has on Linux."
        )


def uses_stable_abi(cfg: dict[str, Any]) -> bool:
    """Whether the extension for this interpreter is built for the stable ABI: on every CPython with a GIL."""
    return not cfg["gil_disabled"]


def extension_suffix(cfg: dict[str, Any]) -> str:
    """The extension module's file suffix: .abi3.so for the stable ABI, else the interpreter's own."""
    return ".abi3.so" if uses_stable_abi(cfg) else str(cfg["ext_suffix"])


def gopy_link_flags(goos: str) -> str:
    """The flags gopy writes into the stubs' `#cgo LDFLAGS`: the one place the extension's link flags enter.

    gopy takes them from the interpreter's LDSHARED, which carries what the
    interpreter's own build wanted (rpaths into its lib directory, Debian's
    -Wl,-Bsymbolic-functions, macOS's -bundle); the extension needs none of that.
    cgo's -buildmode=c-shared links a shared library itself; on macOS the
    interpreter's symbols are left for the loader to find, as CPython's own
    extensions do.
    """
    if goos == "darwin":
        return "-Wl,-undefined,dynamic_lookup"
    return "-shared"


def check_gopy_output(work: Path, goos: str) -> None:
    """Fail, naming what changed, if gopy's output breaks an assumption this build makes about it."""
    stubs = work / f"{MODULE_NAME}.go"
    script = work / "build.py"
    for generated in (stubs, script):
        if not generated.is_file():
            raise BuildError(f"gopy's output changed: it wrote no {generated.name} in {work}")
    source = stubs.read_text()
    # extension/'s Go files join the stubs' package.
    if "\npackage main\n" not in source:
        raise BuildError(f"gopy's output changed: {stubs.name} is not package main")
    if f"#cgo LDFLAGS: {gopy_link_flags(goos)}\n" not in source:
        raise BuildError(f"gopy's output changed: {stubs.name}'s #cgo LDFLAGS are not {gopy_link_flags(goos)!r}")
    # binding.Pipe2 is for the extension's C alone: gopy binds no function of three results.
    if "binding_Pipe2" in source:
        raise BuildError(f"gopy's output changed: {stubs.name} wraps binding.Pipe2 for Python")


def generate_with_gopy(go: str, python: str, work: Path, tags: list[str], env: dict[str, str], goos: str) -> None:
    """Have gopy write the cgo stubs and the pybindgen script for the binding into work, and check them.

    gopy writes its own command line into what it generates, and cgo hashes the
    stubs into the library's symbol names, so the command names nothing that
    depends on where the build runs: the output is ".", in work, the binding is
    named by its import path, and the interpreter is "python", found first on
    PATH as a script that runs the one given. gopy asks that interpreter for its
    LDSHARED, and the script answers with gopy_link_flags.
    """
    shim = work / ".python"
    shim.mkdir()
    answer = f"import sysconfig; sysconfig.get_config_vars()['LDSHARED'] = 'cc {gopy_link_flags(goos)}'"
    (shim / "python").write_text(
        "#!/bin/sh\n"
        "# gopy runs `python -c CODE` to read the interpreter's configuration\n"
        f'if [ "$1" = -c ]; then exec {shlex.quote(python)} -c "{answer}\n$2"; fi\n'
        f'exec {shlex.quote(python)} "$@"\n'
    )
    (shim / "python").chmod(0o755)
    run(
        [
            go,
            "tool",
            "gopy",
            "gen",
            "-no-make",
            "-vm=python",
            "-output=.",
            f"-name={MODULE_NAME}",
            "-dynamic-link=true",
            *([f"-build-tags={','.join(tags)}"] if tags else []),
            BINDING_IMPORT_PATH,
        ],
        cwd=work,
        env={**tool_env(env), "PATH": f"{shim}{os.pathsep}{env.get('PATH', os.defpath)}"},
    )
    check_gopy_output(work, goos)
    # gopy writes the binding's functions in the order of a Go map.
    run([go, "run", SORTFUNCS, f"{MODULE_NAME}.go"], cwd=work, env=tool_env(env))


def tool_env(env: dict[str, str]) -> dict[str, str]:
    """The environment for Go's tools (gopy, goimports, sortfuncs): built for this machine, without cgo.

    The library may be for another machine (GOARCH=arm64, or GOOS=darwin, with zig as the C compiler).
    """
    return {**{k: v for k, v in env.items() if k not in ("GOOS", "GOARCH")}, "CGO_ENABLED": "0"}


def multiarch_include(cfg: dict[str, Any], work: Path) -> list[str]:
    """The include flag for a Debian interpreter's pyconfig.h, which lives under the multiarch directory.

    Debian's pythonX.Y/pyconfig.h includes <MULTIARCH/pythonX.Y/pyconfig.h>, found
    in /usr/include by the system's compiler, which zig's is not: it must not see
    the system's C library headers, only the interpreter's. A directory of the
    build's own holds a link to that one directory.
    """
    include = Path(cfg["include"])
    real = include.parent / cfg["multiarch"] / include.name
    if not cfg["multiarch"] or not (real / "pyconfig.h").is_file():
        return []
    link = work / "multiarch-include" / cfg["multiarch"] / include.name
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    return [f"-I{work / 'multiarch-include'}"]


def macos_deployment_target(go: str) -> str:
    """MACOSX_DEPLOYMENT_TARGET, or where it is not set MACOS_DEPLOYMENT_TARGET, go.mod's; never older than what the
    toolchain's runtime runs on, which check_go keeps no older than go.mod's Go: a Go newer than go.mod's may need a
    newer macOS."""
    version = go_version(go)
    oldest = max(oldest_macos(MIN_GO), oldest_macos(version))
    given = os.environ.get("MACOSX_DEPLOYMENT_TARGET", "")
    if not given:
        return ".".join(map(str, oldest))
    if tuple(int(part) for part in given.split(".")[:2]) < oldest:
        raise BuildError(
            f"MACOSX_DEPLOYMENT_TARGET={given} is older than macOS {'.'.join(map(str, oldest))}, the oldest that "
            f"Go {'.'.join(map(str, version))}'s runtime runs on "
            f"(`python build.py --print-macos-deployment-target` prints go.mod's, {MACOS_DEPLOYMENT_TARGET})"
        )
    return given


def compiler_env(cfg: dict[str, Any], work: Path, go: str, goos: str) -> dict[str, str]:
    """The environment of every cgo build: the target's headers, a release build in C11, the ABI, the OS."""
    cflags = [
        f"-I{cfg['include']}",
        *multiarch_include(cfg, work),
        # gopy's preamble declares `typedef uint8_t bool;`, and bool is a keyword in
        # C23, the default of GCC 15 and newer; CPython's headers need C11.
        "-std=gnu11",
        "-O2",
        "-fPIC",
        "-DNDEBUG",
    ]
    if uses_stable_abi(cfg):
        cflags.append(f"-DPy_LIMITED_API={LIMITED_API_VERSION:#010x}")  # extension/limited_api_compat.h
    env = dict(os.environ, CGO_ENABLED="1", CGO_CFLAGS=" ".join(cflags))
    if goos == "darwin":
        target = macos_deployment_target(go)
        env.update(
            MACOSX_DEPLOYMENT_TARGET=target,
            CGO_CFLAGS=f"{env['CGO_CFLAGS']} -mmacosx-version-min={target}",
            CGO_LDFLAGS=f"-mmacosx-version-min={target}",
        )
    return env


def release_link_flags(work: Path, goos: str) -> str:
    """The C linker's flags of the release build: no symbol tables, and only the init function exported.

    Asked of the C linker too, since zig's does not strip for Go's -s. The Go
    runtime's and cgo's symbols stay inside the library.
    """
    if goos == "darwin":
        return f"-Wl,-x,-exported_symbol,_{INIT_FUNCTION}"
    return f"-Wl,--strip-all,--version-script={work / EXPORTS_MAP.name}"


# Linking for macOS on Linux (macos_cross_cc): text stubs of the macOS libraries Go's link names beyond libSystem,
# whose stub zig carries. runtime/cgo asks for CoreFoundation on arm64 (and uses none of it on macOS), Go's
# internal/syscall/unix for libresolv (`//go:cgo_ldflag "-lresolv"`); Apple's linker loads both too. 150 is
# CoreFoundation's compatibility version.
MACOS_STUBS = {
    "CoreFoundation.framework/CoreFoundation.tbd": (
        "/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation",
        "compatibility-version: 150\n",
        [],
    ),
    "libresolv.tbd": ("/usr/lib/libresolv.9.dylib", "", ["_res_9_nclose", "_res_9_ninit", "_res_9_nsearch"]),
}
# The libraries of Apple's SDK whose stub is libSystem's (runtime/cgo asks for -lpthread on amd64).
LIBSYSTEM_ALIASES = ("c", "dl", "m", "pthread")
MACOS_ARCH = {"arm64": ("aarch64", "arm64"), "amd64": ("x86_64", "x86_64")}  # GOARCH: zig's name, Apple's name
# The linker that honours -exported_symbol where zig's does not (ziglang/zig#24662): Debian's package lld-19.
LLD_NAMES = ("ld64.lld-19", "ld64.lld")


def text_stub(install_name: str, more: str, symbols: list[str]) -> str:
    """A text-based stub (TAPI .tbd, version 4) of a macOS library: its install name and the symbols it exports."""
    exports = f"exports:\n  - targets: [ x86_64-macos, arm64-macos ]\n    symbols: [ {', '.join(symbols)} ]\n"
    return (
        "--- !tapi-tbd\ntbd-version: 4\ntargets: [ x86_64-macos, arm64-macos ]\n"
        f"install-name: '{install_name}'\n{more}{exports if symbols else ''}...\n"
    )


def libsystem_stub_for_lld(zig_stub: str) -> str:
    """zig's libSystem.tbd without its arm64e.x1 targets, which LLVM 19's stub reader refuses ("unknown
    architecture"); ld64.lld takes the arm64e entries for arm64, as Apple's linker does."""

    def without_x1(targets: re.Match[str]) -> str:
        kept = [t.strip() for t in targets[1].split(",") if t.strip() and not t.strip().startswith("arm64e.x1-")]
        if not kept:
            raise BuildError("zig's libSystem.tbd has an entry for arm64e.x1 alone; libsystem_stub_for_lld drops it")
        return f"targets: [ {', '.join(kept)} ]"

    return re.sub(r"targets:\s*\[([^\]]*)\]", without_x1, zig_stub)


def find_lld() -> str:
    for name in LLD_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BuildError(
        "ld64.lld-19 not found: linking the extension for macOS on Linux needs LLVM's Mach-O linker, as zig's "
        "does not restrict the exports (ziglang/zig#24662). Install Debian's lld-19 (apt-get install lld-19); "
        "scripts/macos.py installs it."
    )


def macos_cross_cc(go: str, env: dict[str, str], work: Path, goarch: str) -> str:
    """cgo's C compiler for macOS on another OS: a script in work that runs zig's cc for the architecture and the
    deployment target, and for Go's link of the library (-dynamiclib) `build.py --macos-link`, which runs ld64.lld
    against the stubs it writes into work/macos-sdk.

    CC must be zig's cc (`python -m ziglang cc`, or zig's binary and cc); a -target in it is replaced, as zig takes
    the oldest macOS from the target alone.
    """
    cc = subprocess.run([go, "env", "CC"], env=env, stdout=subprocess.PIPE, text=True).stdout.strip()
    words = shlex.split(cc)
    if "cc" not in words or goarch not in MACOS_ARCH:
        raise BuildError(
            f"building for macOS ({goarch}) on {sys.platform} needs zig's C compiler as CC "
            f"(CC='python -m ziglang cc', ziglang as requirements-dist.txt pins it), for arm64 or amd64; CC is {cc!r}"
        )
    lld = find_lld()
    zig, rest = words[: words.index("cc")], words[words.index("cc") + 1 :]
    # The script runs where Go compiles; a venv's python keeps its name (abspath, not resolve).
    zig[0] = os.path.abspath(zig[0]) if os.sep in zig[0] else zig[0]
    rest = [w for i, w in enumerate(rest) if w != "-target" and (i == 0 or rest[i - 1] != "-target")]
    found = re.search(r'\.lib_dir = "([^"]+)"', run([*zig, "env"]))
    libc = Path(found[1]) / "libc" / "darwin" if found else work
    if not (libc / "libSystem.tbd").is_file():
        raise BuildError(f"zig's libSystem.tbd is missing: `{shlex.join([*zig, 'env'])}` names no lib_dir with it")

    sdk = work / "macos-sdk"
    for name, (install_name, more, symbols) in MACOS_STUBS.items():
        (sdk / name).parent.mkdir(parents=True, exist_ok=True)
        (sdk / name).write_text(text_stub(install_name, more, symbols))
    (sdk / "libSystem.tbd").write_text(libsystem_stub_for_lld((libc / "libSystem.tbd").read_text()))
    for name in LIBSYSTEM_ALIASES:  # as in Apple's SDK, links to libSystem's stub
        (sdk / f"lib{name}.tbd").symlink_to("libSystem.tbd")
    target = env["MACOSX_DEPLOYMENT_TARGET"]
    config = {
        "lld": lld,
        "arch": MACOS_ARCH[goarch][1],
        "target": target,
        "sdk": json.loads((libc / "SDKSettings.json").read_text())["MinimalDisplayName"],  # zig's headers' SDK
        "stubs": str(sdk),
    }
    (sdk / "link.json").write_text(json.dumps(config, indent=1) + "\n")

    link = [sys.executable, str(Path(__file__).resolve()), "--macos-link", str(sdk / "link.json")]
    compile_ = [*zig, "cc", "-target", f"{MACOS_ARCH[goarch][0]}-macos.{target}", *rest]
    script = work / "macos-cc"
    script.write_text(
        "#!/bin/sh\n# cgo's C compiler for macOS, written by build.py (macos_cross_cc).\n"
        f'for arg do if [ "$arg" = -dynamiclib ]; then exec {shlex.join(link)} "$@"; fi; done\n'
        f'exec {shlex.join(compile_)} "$@"\n'
    )
    script.chmod(0o755)
    return str(script)


def macos_link(config_file: Path, args: list[str]) -> int:
    """Go's link of the library for macOS, given the arguments Go gives the C compiler, run as ld64.lld, with the flags
    clang would give Apple's linker: -dylib, the architecture, -platform_version (oldest macOS, SDK), libSystem, and
    an ad-hoc signature on x86_64 too (ld64.lld signs arm64 by default; Go signs arm64 again itself)."""
    config = json.loads(config_file.read_text())
    command = [config["lld"], "-arch", config["arch"], "-dylib"]
    command += ["-platform_version", "macos", config["target"], config["sdk"]]
    words = iter(args)
    for word in words:
        if word in ("-target", "-arch"):  # zig's target, and the architecture: the config's
            next(words)
        elif word in ("-dynamiclib", "-m64", "-Qunused-arguments", "-Wl,--compress-debug-sections=zlib"):
            pass  # -dylib and -arch above; a driver flag; an ELF flag Go adds when zig's cc accepts it (Apple's not)
        elif word.startswith("-mmacosx-version-min="):
            if word.partition("=")[2] != config["target"]:
                print(f"build.py --macos-link: {word}, but the link is for {config['target']}", file=sys.stderr)
                return 2
        elif word.startswith("-Wl,"):
            command += word[len("-Wl,") :].split(",")
        elif word in ("-o", "-framework"):
            command += [word, next(words)]
        elif word.startswith(("-l", "-L", "-F")) or word.endswith((".o", ".a")):
            command.append(word)
        else:
            print(f"build.py --macos-link: Go's link gave {word!r}, which it does not translate", file=sys.stderr)
            return 2
    command += ["-L", config["stubs"], "-F", config["stubs"], "-lSystem", "-adhoc_codesign"]
    proc = subprocess.run(command)
    if proc.returncode != 0:
        print(f"build.py --macos-link: failed: {shlex.join(command)}", file=sys.stderr)
    return proc.returncode


def rehash_code_signature(library: Path) -> int:
    """Bring the page hashes of the ad-hoc signature ld64.lld wrote up to date; the number of pages whose hash changed.

    Go's link writes the FIPS checksum (__go_fipsinfo) into the library after the C linker signed it, and signs it
    again itself on arm64 only: on x86_64 one page's hash is then stale. The signature's size and layout stay; only
    the hashes of its CodeDirectories' code slots are recomputed (Apple's cs_blobs.h; scripts/macos.py checks them).
    """
    data = bytearray(library.read_bytes())
    ncmds = int.from_bytes(data[16:20], "little")
    offset, signature = 32, None
    for _ in range(ncmds):
        if int.from_bytes(data[offset : offset + 4], "little") == 0x1D:  # LC_CODE_SIGNATURE
            signature = int.from_bytes(data[offset + 8 : offset + 12], "little")
        offset += int.from_bytes(data[offset + 4 : offset + 8], "little")
    if signature is None:
        raise BuildError(f"{library.name} has no code signature: ld64.lld was to sign it ad hoc")

    def big(at: int) -> int:
        return int.from_bytes(data[at : at + 4], "big")

    changed = 0
    for index in range(big(signature + 8)):
        kind, at = big(signature + 12 + 8 * index), signature + big(signature + 16 + 8 * index)
        if kind != 0 and not 0x1000 <= kind < 0x1005:  # not a CodeDirectory
            continue
        hashes, slots, limit = big(at + 16), big(at + 28), big(at + 32)
        size, kind_of_hash, page = data[at + 36], data[at + 37], 1 << data[at + 39]
        algorithm = {1: "sha1", 2: "sha256", 3: "sha256", 4: "sha384"}[kind_of_hash]
        for slot in range(slots):
            digest = hashlib.new(algorithm, data[slot * page : min((slot + 1) * page, limit)]).digest()[:size]
            start = at + hashes + slot * size
            if data[start : start + size] != digest:
                data[start : start + size] = digest
                changed += 1
    library.write_bytes(data)
    return changed


def check_code_signature(library: Path) -> None:
    """Sign the library ad hoc unless the linker did: arm64 macOS kills a process that loads unsigned code."""
    if subprocess.run(["codesign", "--verify", str(library)], capture_output=True).returncode != 0:
        run(["codesign", "--force", "--sign", "-", str(library)])
    run(["codesign", "--verify", "--verbose", str(library)])


def go_target(go: str) -> tuple[str, str]:
    """The OS and machine the extension is built for: Go's GOOS and GOARCH, this machine's unless set otherwise."""
    out = subprocess.run([go, "env", "GOOS", "GOARCH"], stdout=subprocess.PIPE, text=True, check=True).stdout
    goos, goarch = out.split()
    return goos, goarch


def build(python: str, dest: Path, tags: list[str]) -> Path:
    """Build the extension for python with the given Go build tags and copy it into dest."""
    # Absolute, but not resolved: a venv's python is a link that must keep its name.
    python = os.path.abspath(python) if os.sep in python else python
    cfg = python_config(python)
    check_libc(cfg)
    go = check_go()
    check_c_compiler(go)
    check_python_build_requirements(python, cfg)
    goos, goarch = go_target(go)

    abi = "abi3" if uses_stable_abi(cfg) else cfg["soabi"]
    work = WORK_ROOT / "-".join([abi, goos, goarch, *tags])
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)

    env = compiler_env(cfg, work, go, goos)
    if goos == "darwin" and sys.platform != "darwin":  # zig's C compiler, and LLVM's linker where zig's falls short
        env["CC"] = macos_cross_cc(go, env, work, goarch)
    # The tag that lets extension/'s Go file join the package; Go's tools skip it elsewhere.
    tag_args = ["-tags", ",".join([EXTENSION_TAG, *tags])]
    generate_with_gopy(go, python, work, tags, env, goos)
    for source in [*sorted(EXTENSION_SOURCES.glob("*.[ch]")), *sorted(EXTENSION_SOURCES.glob("*.go")), EXPORTS_MAP]:
        shutil.copyfile(source, work / source.name)
    run([go, "tool", "goimports", "-w", f"{MODULE_NAME}.go"], cwd=work, env=tool_env(env))
    # The header of the Go exports, which the C that pybindgen writes includes; -trimpath as in the build below,
    # which then finds every package compiled.
    run(
        [go, "build", "-buildmode=c-shared", "-trimpath", *tag_args, "-o", f"{MODULE_NAME}_go.so", "."],
        cwd=work,
        env=env,
    )
    run([python, str(EXTENSION_SOURCES / "run_pybindgen.py"), "build.py"], cwd=work, env=env)

    module_file = f"_{MODULE_NAME}{extension_suffix(cfg)}"
    # No Go build ID: it hashes the link's flags, and with them the path of this work directory.
    ldflags = f"-s -w -buildid= -extldflags={release_link_flags(work, goos)}"
    run(
        [go, "build", "-buildmode=c-shared", "-trimpath", *tag_args, f"-ldflags={ldflags}", "-o", module_file, "."],
        cwd=work,
        env=env,
    )
    if goos == "darwin" and sys.platform == "darwin":
        check_code_signature(work / module_file)
    elif goos == "darwin":
        changed = rehash_code_signature(work / module_file)
        echo(f"re-hashed {changed} page(s) of the ad-hoc signature, which Go's FIPS checksum changed after the link")
        echo("not verified with codesign, which is macOS's (scripts/macos.py checks the signature's page hashes)")

    dest.mkdir(parents=True, exist_ok=True)
    target = dest / module_file
    shutil.copyfile(work / module_file, target)
    echo(f"built {target}")
    return target


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--macos-link"] and len(argv) > 1:  # the link step of macos_cross_cc's script
        return macos_link(Path(argv[1]), argv[2:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=sys.executable, help="interpreter to build for (default: this one)")
    parser.add_argument("--tags", default="", help="comma-separated Go build tags")
    parser.add_argument("--dest", type=Path, default=ROOT / "python" / "pyos", help="where to put the extension")
    parser.add_argument(
        "--print-macos-deployment-target",
        action="store_true",
        help="print the oldest macOS the extension is built for, which go.mod's go line decides, and exit",
    )
    args = parser.parse_args(argv)
    if args.print_macos_deployment_target:
        print(MACOS_DEPLOYMENT_TARGET)
        return 0
    try:
        build(args.python, args.dest, [t for t in args.tags.split(",") if t])
    except BuildError as err:
        print(f"build.py: error: {err}", file=sys.stderr)
        return 1
    return 0


def run_pypa_build() -> None:
    """Run PyPA's build frontend, which `python -m build` means; from this directory it finds this file first."""
    import runpy

    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT]
    try:
        runpy.run_module("build", run_name="__main__", alter_sys=True)
    except ImportError as err:
        sys.exit(f"python -m build: PyPA's build is not installed ({err}); pip install build")


if __name__ == "__main__":
    if __spec__ is not None and __spec__.name == "build":  # python -m build, in this directory
        run_pypa_build()
    else:
        sys.exit(main())
