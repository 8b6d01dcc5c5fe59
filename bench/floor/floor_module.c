//go:build pyos_floor

/* The module _gofloor: noop() calls the Go no-op export from C, as pyos.pipe2 calls Go;
 * c_noop() is the same builtin without the call into Go, so that noop() minus c_noop()
 * is the C-to-Go call alone. The init makes the first call into Go, which returns once
 * Go's runtime has started, as pyos's init does.
 *
 * None is returned with Py_INCREF, not Py_RETURN_NONE: CPython 3.12's and 3.13's headers
 * define that as `return Py_None` even under a Py_LIMITED_API older than 3.12, and a module
 * so built for the stable ABI takes a reference to None from a 3.9-3.11 interpreter with
 * every call ("Fatal Python error: none_dealloc" at exit). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_cgo_export.h"

static PyObject *
noop(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    pyos_floor_noop();
    Py_INCREF(Py_None);
    return Py_None;
}

static PyObject *
c_noop(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    Py_INCREF(Py_None);
    return Py_None;
}

static PyMethodDef functions[] = {
    {"noop", noop, METH_NOARGS, "Call a Go function that does nothing."},
    {"c_noop", c_noop, METH_NOARGS, "Return None, without calling into Go."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_gofloor", "Go's floor: a c-shared Go library with one no-op export.", -1, functions,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__gofloor(void)
{
    PyObject *m = PyModule_Create(&module);

    if (m == NULL) {
        return NULL;
    }
#ifdef Py_GIL_DISABLED
    if (PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    pyos_floor_noop();
    return m;
}
