#!/usr/bin/env python3
"""Build the pyos CPython extension from the Go binding with gopy.

    python build.py [--python PY] [--tags TAG,...] [--dest DIR]

Steps, each echoed before it runs:
  1. `go tool gopy gen` writes the cgo stubs and the pybindgen script for
     ./binding, check_gopy_output checks what pyos assumes of them, and
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

Nothing gopy or pybindgen generates is edited. gopy's own `build` command is not
used: it needs goimports on PATH and links libpython, and a manylinux wheel must
not (the interpreter provides the symbols). gopy's generated Python wrapper is
not shipped: it calls os.chdir at import.

`python -m build` in this directory runs PyPA's build frontend, as anywhere else.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BINDING_IMPORT_PATH = "github.com/pyos-project/pyos/binding"
SORTFUNCS = "github.com/pyos-project/pyos/extension/sortfuncs"
EXTENSION_SOURCES = ROOT / "extension"
EXTENSION_TAG = "pyos_extension"
EXPORTS_MAP = EXTENSION_SOURCES / "exports.map"
MODULE_NAME = "pyosgo"  # gopy names the extension module _pyosgo
MIN_GO = (1, 26)

# The generated code's path must be inside the Go module, and a leading "_"
# keeps it out of `go vet ./...` and `go test ./...`.
WORK_ROOT = ROOT / "build" / "_gopy"


class BuildError(Exception):
    """A build step failed; the message says what is missing or what failed."""


def echo(message: str) -> None:
    print(message, flush=True)


def run(cmd: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    """Run cmd, echoing it, and return its stdout; fail with its output on a non-zero exit."""
    echo(f"$ {shlex.join(cmd)}" + (f"   (in {cwd})" if cwd != ROOT else ""))
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise BuildError(f"`{shlex.join(cmd)}` failed with exit status {proc.returncode}:\n{proc.stdout}")
    return proc.stdout


def check_go() -> str:
    go = shutil.which("go")
    if go is None:
        raise BuildError(
            "Go toolchain not found: pyos compiles its extension from Go sources. "
            f"Install Go {'.'.join(map(str, MIN_GO))} or newer (https://go.dev/dl/) and put `go` on PATH."
        )
    out = subprocess.run([go, "env", "GOVERSION"], stdout=subprocess.PIPE, text=True).stdout.strip()
    match = re.match(r"go(\d+)\.(\d+)", out)
    if match is None or tuple(map(int, match.groups())) < MIN_GO:
        raise BuildError(f"Go {'.'.join(map(str, MIN_GO))} or newer is needed; {go} is {out or 'unknown'}.")
    return go


def check_c_compiler(go: str) -> None:
    cc = subprocess.run([go, "env", "CC"], stdout=subprocess.PIPE, text=True).stdout.strip() or "gcc"
    if shutil.which(shlex.split(cc)[0]) is None:
        raise BuildError(f"C compiler `{cc}` not found: cgo needs one to build the extension (install gcc or clang).")


def python_config(python: str) -> dict[str, str]:
    """Ask the target interpreter for its headers, extension suffix and pybindgen."""
    probe = (
        "import json, sysconfig, importlib.util\n"
        "print(json.dumps({'include': sysconfig.get_path('include'),"
        " 'ext_suffix': sysconfig.get_config_var('EXT_SUFFIX'),"
        " 'ldshared': sysconfig.get_config_var('LDSHARED') or '',"
        " 'multiarch': sysconfig.get_config_var('MULTIARCH') or '',"
        " 'pybindgen': importlib.util.find_spec('pybindgen') is not None}))"
    )
    try:
        out = subprocess.run([python, "-c", probe], stdout=subprocess.PIPE, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        raise BuildError(f"cannot run the target Python interpreter {python}: {err}") from err
    cfg = json.loads(out)
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
    return cfg


def check_gopy_output(work: Path) -> None:
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
    if "-lpython" in source:
        raise BuildError(f"gopy's output changed: {stubs.name} links libpython despite -dynamic-link")


def generate_with_gopy(go: str, python: str, work: Path, tags: list[str], env: dict[str, str]) -> None:
    """Have gopy write the cgo stubs and the pybindgen script for the binding into work, and check them.

    gopy writes its own command line into what it generates, and cgo hashes the
    stubs into the library's symbol names, so the command names nothing that
    depends on where the build runs: the output is ".", in work, the binding is
    named by its import path, and the interpreter is "python", found first on
    PATH as a script that runs the one given.
    """
    shim = work / ".python"
    shim.mkdir()
    (shim / "python").write_text(f'#!/bin/sh\nexec {shlex.quote(python)} "$@"\n')
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
    check_gopy_output(work)
    # gopy writes the binding's functions in the order of a Go map.
    run([go, "run", SORTFUNCS, f"{MODULE_NAME}.go"], cwd=work, env=tool_env(env))


def tool_env(env: dict[str, str]) -> dict[str, str]:
    """The environment for Go's tools (gopy, goimports, sortfuncs): built for this machine, without cgo.

    The library may be for another architecture (GOARCH=arm64 with zig as the C compiler).
    """
    return {**{k: v for k, v in env.items() if k != "GOARCH"}, "CGO_ENABLED": "0"}


def multiarch_include(cfg: dict[str, str], work: Path) -> list[str]:
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


def compiler_env(cfg: dict[str, str], work: Path) -> dict[str, str]:
    """The environment of every cgo build: the target's headers and a release build in C11."""
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
    # macOS refuses undefined symbols in a shared library unless told they come from the loader.
    ldflags = ["-undefined", "dynamic_lookup"] if sys.platform == "darwin" else []
    # gopy copies the interpreter's LDSHARED flags (the compiler's name dropped) into the
    # stubs' `#cgo LDFLAGS`, where Go takes only flags it knows to be safe; these are the
    # flags the interpreter links its own extensions with (Debian's include -fwrapv).
    interpreter_ldflags = shlex.split(cfg["ldshared"])[1:]
    allowed = "|".join(re.escape(flag) for flag in interpreter_ldflags) or "^$"
    return dict(
        os.environ,
        CGO_ENABLED="1",
        CGO_CFLAGS=" ".join(cflags),
        CGO_LDFLAGS=" ".join(ldflags),
        CGO_LDFLAGS_ALLOW=f"^({allowed})$",
    )


# ELF's dynamic-section tags, for drop_search_paths.
_DT_NULL, _DT_STRTAB, _DT_RPATH, _DT_RUNPATH = 0, 5, 15, 29
_PT_LOAD, _PT_DYNAMIC = 1, 2


def drop_search_paths(library: Path) -> list[str]:
    """Remove the library search paths (DT_RPATH, DT_RUNPATH) from a 64-bit little-endian ELF library.

    The interpreter's LDSHARED, which gopy copies into the link, can carry an rpath
    to the interpreter's own lib directory (pyenv's does). The extension needs
    nothing from there, it links libc only, and a wheel must not name a directory
    of the machine that built it. Returns the paths removed; other files are left alone.
    """
    data = bytearray(library.read_bytes())
    if data[:6] != b"\x7fELF\x02\x01":
        return []
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    segments = [struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize) for i in range(phnum)]
    dynamic = next((seg for seg in segments if seg[0] == _PT_DYNAMIC), None)
    if dynamic is None:
        return []
    _, _, dyn_offset, _, _, dyn_size = dynamic
    entries = [struct.unpack_from("<qQ", data, dyn_offset + i) for i in range(0, dyn_size, 16)]
    strtab_vaddr = next(value for tag, value in entries if tag == _DT_STRTAB)
    strtab = next(
        off + strtab_vaddr - vaddr
        for kind, _, off, vaddr, _, size in segments
        if kind == _PT_LOAD and vaddr <= strtab_vaddr < vaddr + size
    )
    removed = []
    for tag, value in entries:
        if tag in (_DT_RPATH, _DT_RUNPATH):
            start = strtab + value
            end = data.index(0, start)
            removed.append(data[start:end].decode())
            data[start:end] = bytes(end - start)  # the string goes too, not only the entry
    kept = [(tag, value) for tag, value in entries if tag not in (_DT_RPATH, _DT_RUNPATH)]
    kept += [(_DT_NULL, 0)] * (len(entries) - len(kept))
    for i, (tag, value) in enumerate(kept):
        struct.pack_into("<qQ", data, dyn_offset + 16 * i, tag, value)
    if removed:
        library.write_bytes(data)
    return removed


def build(python: str, dest: Path, tags: list[str]) -> Path:
    """Build the extension for python with the given Go build tags and copy it into dest."""
    go = check_go()
    check_c_compiler(go)
    cfg = python_config(python)

    work = WORK_ROOT / "-".join([cfg["ext_suffix"].strip(".").removesuffix(".so"), *tags])
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)

    env = compiler_env(cfg, work)
    # The tag that lets extension/'s Go file join the package; Go's tools skip it elsewhere.
    tag_args = ["-tags", ",".join([EXTENSION_TAG, *tags])]
    generate_with_gopy(go, python, work, tags, env)
    for source in [*sorted(EXTENSION_SOURCES.glob("*.[ch]")), *sorted(EXTENSION_SOURCES.glob("*.go")), EXPORTS_MAP]:
        shutil.copyfile(source, work / source.name)
    run([go, "tool", "goimports", "-w", f"{MODULE_NAME}.go"], cwd=work, env=tool_env(env))
    # The header of the Go exports, which the C that pybindgen writes includes.
    run([go, "build", "-buildmode=c-shared", *tag_args, "-o", f"{MODULE_NAME}_go.so", "."], cwd=work, env=env)
    run([python, str(EXTENSION_SOURCES / "run_pybindgen.py"), "build.py"], cwd=work, env=env)

    module_file = f"_{MODULE_NAME}{cfg['ext_suffix']}"
    # A release build: no symbol tables or debug information (asked of the C linker too,
    # which zig's does not do for Go's -s), only PyInit__pyosgo exported
    # (extension/exports.map), and no Go build ID, which hashes the link's flags, and
    # with them the path of this work directory.
    exports = (
        "" if sys.platform == "darwin" else f" -extldflags=-Wl,--strip-all,--version-script={work / EXPORTS_MAP.name}"
    )
    run(
        [
            go,
            "build",
            "-buildmode=c-shared",
            "-trimpath",
            *tag_args,
            f"-ldflags=-s -w -buildid={exports}",
            "-o",
            module_file,
            ".",
        ],
        cwd=work,
        env=env,
    )

    for path in drop_search_paths(work / module_file):
        echo(f"dropped the library search path {path} from {module_file}")

    dest.mkdir(parents=True, exist_ok=True)
    target = dest / module_file
    shutil.copyfile(work / module_file, target)
    echo(f"built {target}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=sys.executable, help="interpreter to build for (default: this one)")
    parser.add_argument("--tags", default="", help="comma-separated Go build tags")
    parser.add_argument("--dest", type=Path, default=ROOT / "python" / "pyos", help="where to put the extension")
    args = parser.parse_args(argv)
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
