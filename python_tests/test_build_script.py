"""build.py fails with a message that names what is missing."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

BUILD_PY = Path(__file__).resolve().parents[1] / "build.py"


def run_build(tmp_path: Path, python: str, path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BUILD_PY), "--python", python, "--dest", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
        timeout=120,
    )


def test_missing_go_is_named(tmp_path):
    proc = run_build(tmp_path, sys.executable, str(tmp_path))  # a PATH with no go on it
    assert proc.returncode == 1
    assert "Go toolchain not found" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_missing_pybindgen_is_named(tmp_path):
    # The test venv has no pybindgen: only pip's isolated build environment installs it.
    probe = subprocess.run([sys.executable, "-c", "import pybindgen"], stderr=subprocess.DEVNULL)
    assert probe.returncode != 0
    proc = run_build(tmp_path, sys.executable, os.environ["PATH"])
    assert proc.returncode == 1
    assert f"pybindgen is not installed for {sys.executable}" in proc.stderr


def test_missing_python_headers_are_named(tmp_path):
    # An interpreter whose include directory has no Python.h, as without python3-dev.
    fake = tmp_path / "python-without-headers"
    answer = json.dumps({"include": str(tmp_path / "include"), "ext_suffix": ".so", "pybindgen": True})
    fake.write_text(f"#!/bin/sh\necho '{answer}'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    proc = run_build(tmp_path, str(fake), os.environ["PATH"])
    assert proc.returncode == 1
    assert "Python headers not found" in proc.stderr
    assert str(tmp_path / "include" / "Python.h") in proc.stderr


GO_STUB = """//export binding_Pipe2
func binding_Pipe2(flags C.longlong) C.longlong {
\t_saved_thread := C.PyEval_SaveThread()
\tdefer C.PyEval_RestoreThread(_saved_thread)
\treturn C.longlong(binding.Pipe2(int(flags)))

}
"""

C_WRAPPER = """PyObject *
_wrap__pyosgo_binding_Pipe2(PyObject * PYBINDGEN_UNUSED(dummy), PyObject *args, PyObject *kwargs)
{
    PyObject *py_retval;
    int64_t retval;
    int64_t flags;
    const char *keywords[] = {"flags", NULL};

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, (char *) "L", (char **) keywords, &flags)) {
        return NULL;
    }
    retval = binding_Pipe2(flags);
    if (PyErr_Occurred()) {
        return NULL;
    }
    py_retval = Py_BuildValue((char *) "L", retval);
    return py_retval;
}
PyObject * _wrap__pyosgo_binding_Pipe2(PyObject * PYBINDGEN_UNUSED(dummy), PyObject *args, PyObject *kwargs);

static PyMethodDef _pyosgo_functions[] = {
    {(char *) "binding_Pipe2", (PyCFunction) _wrap__pyosgo_binding_Pipe2, METH_KEYWORDS|METH_VARARGS, "" },
};
"""


def load_build_module():
    spec = importlib.util.spec_from_file_location("pyos_gopy_build", BUILD_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_post_processing_moves_the_gil_release_into_c_and_makes_pipe2_meth_o(tmp_path):
    build = load_build_module()
    stub, wrapper = tmp_path / "pyosgo.go", tmp_path / "pyosgo.c"
    stub.write_text(GO_STUB)
    wrapper.write_text(C_WRAPPER)
    assert build.release_gil_in_c(stub, wrapper) == 1
    assert build.parse_one_int64_with_meth_o(wrapper) == ["_wrap__pyosgo_binding_Pipe2"]
    go, c = stub.read_text(), wrapper.read_text()
    assert "PyEval_SaveThread" not in go and "return C.longlong(binding.Pipe2(int(flags)))" in go
    assert "    Py_BEGIN_ALLOW_THREADS\n    retval = binding_Pipe2(flags);\n    Py_END_ALLOW_THREADS\n" in c
    assert "PyArg_ParseTupleAndKeywords" not in c and "flags = PyLong_AsLongLong(arg);" in c
    assert "_wrap__pyosgo_binding_Pipe2, METH_O," in c and "PyLong_FromLongLong(retval)" in c


C_PIPE_WRAPPER = """#include <Python.h>

PyObject *
_wrap__pyosgo_binding_Pipe(PyObject *PYBINDGEN_UNUSED(_args), PyObject *PYBINDGEN_UNUSED(_kwargs))
{
    PyObject *py_retval;
    int64_t retval;

    retval = binding_Pipe();
    if (PyErr_Occurred()) {
        return NULL;
    }
    py_retval = Py_BuildValue((char *) "L", retval);
    return py_retval;
}
PyObject * _wrap__pyosgo_binding_Pipe(PyObject *PYBINDGEN_UNUSED(_args), PyObject *PYBINDGEN_UNUSED(_kwargs));

"""


def test_post_processing_makes_the_pipe_wrappers_return_fd_pairs(tmp_path):
    build = load_build_module()
    stub, wrapper = tmp_path / "pyosgo.go", tmp_path / "pyosgo.c"
    stub.write_text(GO_STUB)
    wrapper.write_text(C_PIPE_WRAPPER + C_WRAPPER)
    build.parse_one_int64_with_meth_o(wrapper)
    build.return_fd_pairs(wrapper)
    c = wrapper.read_text()
    assert c.count("    return pyos_fd_pair(retval);\n}\n") == 2
    assert "PyLong_FromLongLong(retval)" not in c and "py_retval" not in c
    helper = c.index("static PyObject *\npyos_fd_pair(int64_t packed)")
    assert c.index("#include <Python.h>") < helper < c.index("_wrap__pyosgo_binding_Pipe(")


def test_fd_pairs_refuse_a_wrapper_that_does_not_return_the_packed_int(tmp_path):
    build = load_build_module()
    wrapper = tmp_path / "pyosgo.c"
    wrapper.write_text((C_PIPE_WRAPPER + C_WRAPPER).replace("return py_retval;", "return Py_None;"))
    build.parse_one_int64_with_meth_o(wrapper)
    with pytest.raises(build.BuildError, match="does not end by returning the packed int64"):
        build.return_fd_pairs(wrapper)


def test_post_processing_refuses_output_it_does_not_recognise(tmp_path):
    build = load_build_module()
    stub, wrapper = tmp_path / "pyosgo.go", tmp_path / "pyosgo.c"
    stub.write_text(GO_STUB.replace("_saved_thread := C.PyEval_SaveThread()", "save := C.PyEval_SaveThread()"))
    wrapper.write_text(C_WRAPPER)
    with pytest.raises(build.BuildError, match="gopy's output changed"):
        build.release_gil_in_c(stub, wrapper)
