#!/usr/bin/env python3
"""Build the pyos CPython extension from the Go binding with gopy.

    python build.py [--python PY] [--tags TAG,...] [--dest DIR]

Steps, each echoed before it runs:
  1. `go tool gopy gen` writes the cgo stubs and pybindgen script for ./binding;
  2. `go tool goimports` fixes the stubs' imports (gopy would look for goimports on PATH);
  3. a first `go build -buildmode=c-shared` writes the header the C wrapper includes;
  4. pybindgen, run by the target interpreter, writes the CPython wrapper, which
     is then post-processed for speed: the GIL is released in C rather than from
     Go, one-int64 wrappers become METH_O, and the pipe wrappers return
     (read_fd, write_fd) or the negative errno;
  5. the final `go build -buildmode=c-shared` links Go and the wrapper into one
     extension module, `_pyosgo<EXT_SUFFIX>`, which is copied into DIR.

gopy's own `build` command is not used: it needs goimports on PATH and links
libpython, and a manylinux wheel must not (the interpreter provides the symbols).
gopy's generated Python wrapper is not shipped: it calls os.chdir at import.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BINDING_PACKAGE = "./binding"
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


def unlink_libpython(stubs: Path) -> None:
    """Drop gopy's link flags so the extension takes Python's symbols from the interpreter that loads it."""
    text = stubs.read_text()
    # macOS refuses undefined symbols in a shared library unless told they come from the loader.
    flags = "-undefined dynamic_lookup" if sys.platform == "darwin" else ""
    new, count = re.subn(r"^#cgo LDFLAGS:.*$", f"#cgo LDFLAGS: {flags}".rstrip(), text, flags=re.M)
    if count != 1:
        raise BuildError(f"gopy's output changed: expected one '#cgo LDFLAGS' line in {stubs}, found {count}")
    stubs.write_text(new)


# gopy releases the GIL inside each Go wrapper with C.PyEval_SaveThread and
# C.PyEval_RestoreThread: two calls from Go back into C (cgocall), which cost more
# than pipe2's own user-space work. The GIL is released in the C wrapper instead.
_GO_GIL_RELEASE = re.compile(
    r"^(?P<head>func binding_\w+\(.*\{\n)"
    r"\t_saved_thread := C\.PyEval_SaveThread\(\)\n\tdefer C\.PyEval_RestoreThread\(_saved_thread\)\n",
    re.M,
)
_C_BINDING_CALL = re.compile(r"^(?P<indent>[ \t]+)(?P<call>(?:retval = )?binding_\w+\([^;]*\);)$", re.M)


def release_gil_in_c(stubs: Path, wrapper: Path) -> int:
    """Move the GIL release of every binding call from gopy's Go stubs into pybindgen's C wrapper.

    Returns the number of calls moved; fails if the Go and C sides do not match.
    """
    go_source, go_count = _GO_GIL_RELEASE.subn(r"\g<head>", stubs.read_text())
    binding_funcs = len(re.findall(r"^func binding_\w+\(", go_source, flags=re.M))
    c_source, c_count = _C_BINDING_CALL.subn(
        lambda m: f"{m['indent']}Py_BEGIN_ALLOW_THREADS\n{m['indent']}{m['call']}\n{m['indent']}Py_END_ALLOW_THREADS",
        wrapper.read_text(),
    )
    if not binding_funcs or c_count != binding_funcs:
        raise BuildError(
            f"gopy's output changed: {binding_funcs} binding functions in {stubs.name}, "
            f"{c_count} binding calls in {wrapper.name}"
        )
    if go_count != binding_funcs:
        raise BuildError(f"gopy's output changed: {go_count} of {binding_funcs} Go binding stubs release the GIL")
    stubs.write_text(go_source)
    wrapper.write_text(c_source)
    return c_count


# pybindgen parses even a single integer argument with PyArg_ParseTupleAndKeywords
# (METH_VARARGS|METH_KEYWORDS) and builds results with Py_BuildValue. For the
# one-int64 binding calls the wrapper is made METH_O with PyLong_AsLongLong; the
# facade has already checked the argument, so only the parsing machinery goes.
_C_ONE_INT64_WRAPPER = re.compile(
    r"(?P<name>_wrap__pyosgo_binding_\w+)"
    r"\(PyObject \* PYBINDGEN_UNUSED\(dummy\), PyObject \*args, PyObject \*kwargs\)\n"
    r"\{\n(?P<decls>(?:    [^\n]*;\n)*?)"
    r"    const char \*keywords\[\] = \{\"(?P<arg>\w+)\", NULL\};\n\n"
    r"    if \(!PyArg_ParseTupleAndKeywords\(args, kwargs, "
    r"\(char \*\) \"L\", \(char \*\*\) keywords, &(?P=arg)\)\) \{\n"
    r"        return NULL;\n    \}\n"
)


def parse_one_int64_with_meth_o(wrapper: Path) -> list[str]:
    """Turn pybindgen's wrappers of one-int64 functions into METH_O functions; return their names."""
    source = wrapper.read_text()
    names: list[str] = []

    def as_meth_o(m: re.Match[str]) -> str:
        names.append(m["name"])
        return (
            f"{m['name']}(PyObject *PYBINDGEN_UNUSED(dummy), PyObject *arg)\n{{\n{m['decls']}\n"
            f"    {m['arg']} = PyLong_AsLongLong(arg);\n"
            f"    if ({m['arg']} == -1 && PyErr_Occurred()) {{\n        return NULL;\n    }}\n"
        )

    source = _C_ONE_INT64_WRAPPER.sub(as_meth_o, source)
    for name in names:
        prototype = f"PyObject * {name}(PyObject * PYBINDGEN_UNUSED(dummy), PyObject *args, PyObject *kwargs);"
        entry = f"(PyCFunction) {name}, METH_KEYWORDS|METH_VARARGS"
        if source.count(prototype) != 1 or source.count(entry) != 1:
            raise BuildError(f"gopy's output changed: no single prototype and method entry for {name}")
        source = source.replace(prototype, f"PyObject * {name}(PyObject *dummy, PyObject *arg);")
        source = source.replace(entry, f"(PyCFunction) {name}, METH_O")
    source = source.replace('Py_BuildValue((char *) "L", retval)', "PyLong_FromLongLong(retval)")
    wrapper.write_text(source)
    return names


# gopy returns one value per call, so Go packs a pipe's fds as read<<32 | write (a
# failure as -errno). Unpacked in Python, that costs two operations on a two-digit
# int and a tuple, about 900 instructions per call on CPython 3.11; the C wrapper
# unpacks it instead. The facade still owns the errno, which stays an int.
PIPE_WRAPPERS = ("_wrap__pyosgo_binding_Pipe2", "_wrap__pyosgo_binding_Pipe")
_C_FD_PAIR = """
/* Added by pyos's build.py: (read_fd, write_fd) from Go's packed result, or the negative errno. */
static PyObject *
pyos_fd_pair(int64_t packed)
{
    PyObject *pair, *fd;

    if (packed < 0) {
        return PyLong_FromLongLong(packed);
    }
    pair = PyTuple_New(2);
    if (pair == NULL) {
        return NULL;
    }
    fd = PyLong_FromLong((long)(packed >> 32));
    if (fd == NULL) {
        Py_DECREF(pair);
        return NULL;
    }
    PyTuple_SET_ITEM(pair, 0, fd);
    fd = PyLong_FromLong((long)(packed & 0xFFFFFFFF));
    if (fd == NULL) {
        Py_DECREF(pair);
        return NULL;
    }
    PyTuple_SET_ITEM(pair, 1, fd);
    return pair;
}
"""
_C_PACKED_RETURN = "    py_retval = PyLong_FromLongLong(retval);\n    return py_retval;\n}\n"


def return_fd_pairs(wrapper: Path) -> None:
    """Make the C wrappers of the pipe functions return (read_fd, write_fd), or the negative errno as an int."""
    source = wrapper.read_text()
    first_wrapper = source.find("\nPyObject *\n_wrap__pyosgo_")
    if first_wrapper < 0:
        raise BuildError("gopy's output changed: no wrapper functions found")
    for name in PIPE_WRAPPERS:
        start = source.find(f"\n{name}(")
        end = source.find("\n}\n", start) + len("\n}\n")
        body = source[start:end]
        if start < 0 or not body.endswith(_C_PACKED_RETURN) or body.count("    PyObject *py_retval;\n") != 1:
            raise BuildError(f"gopy's output changed: {name} does not end by returning the packed int64")
        body = body.replace("    PyObject *py_retval;\n", "").replace(
            _C_PACKED_RETURN, "    return pyos_fd_pair(retval);\n}\n"
        )
        source = source[:start] + body + source[end:]
    source = source[:first_wrapper] + _C_FD_PAIR + source[first_wrapper:]
    wrapper.write_text(source)


def build(python: str, dest: Path, tags: list[str]) -> Path:
    """Build the extension for python with the given Go build tags and copy it into dest."""
    go = check_go()
    check_c_compiler(go)
    cfg = python_config(python)

    work = WORK_ROOT / "-".join([cfg["ext_suffix"].strip(".").removesuffix(".so"), *tags])
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)

    env = dict(os.environ, CGO_ENABLED="1")
    tag_args = ["-tags", ",".join(tags)] if tags else []
    run(
        [
            go,
            "tool",
            "gopy",
            "gen",
            "-no-make",
            f"-vm={python}",
            f"-output={work}",
            f"-name={MODULE_NAME}",
            "-dynamic-link=true",
            *([f"-build-tags={','.join(tags)}"] if tags else []),
            BINDING_PACKAGE,
        ],
        env=env,
    )
    stubs = work / f"{MODULE_NAME}.go"
    unlink_libpython(stubs)
    run([go, "tool", "goimports", "-w", str(stubs)], env=env)
    run([go, "build", "-buildmode=c-shared", *tag_args, "-o", f"{MODULE_NAME}_go.so", "."], cwd=work, env=env)
    run([python, "build.py"], cwd=work, env=env)
    moved = release_gil_in_c(stubs, work / f"{MODULE_NAME}.c")
    echo(f"moved the GIL release of {moved} binding calls from the Go stubs into the C wrapper")
    fast = parse_one_int64_with_meth_o(work / f"{MODULE_NAME}.c")
    if "_wrap__pyosgo_binding_Pipe2" not in fast:
        raise BuildError("gopy's output changed: binding_Pipe2's wrapper was not recognised")
    echo(f"made {', '.join(fast)} METH_O")
    return_fd_pairs(work / f"{MODULE_NAME}.c")
    echo(f"made {', '.join(PIPE_WRAPPERS)} return (read_fd, write_fd)")

    module_file = f"_{MODULE_NAME}{cfg['ext_suffix']}"
    env["CGO_CFLAGS"] = f"-I{cfg['include']} -fPIC -O2"
    env["CGO_LDFLAGS"] = ""
    run(
        [go, "build", "-buildmode=c-shared", "-trimpath", *tag_args, "-ldflags=-s -w", "-o", module_file, "."],
        cwd=work,
        env=env,
    )

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


if __name__ == "__main__":
    sys.exit(main())
