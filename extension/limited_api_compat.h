/* What gopy's and pybindgen's generated C takes from CPython's full API, given in
 * terms of the limited API, as pythoncapi-compat gives new API to old CPythons.
 *
 * Every C file of the extension starts with it (limited_api.go's -include), and
 * where build.py builds for the stable ABI (Py_LIMITED_API) the names the
 * generated code uses that the limited API lacks are defined here, as static
 * functions, so that the library imports no symbol outside the stable ABI. The
 * generated code itself is not edited.
 */

#ifndef PYOS_LIMITED_API_COMPAT_H
#define PYOS_LIMITED_API_COMPAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#ifdef Py_LIMITED_API

/* pybindgen's module preamble: `typedef PyAsyncMethods* cmpfunc;`, a pointer type it never dereferences. */
typedef struct pyos_compat_async_methods PyAsyncMethods;

/* gopy's preamble: complex64PyToGo and complex128PyToGo, which pyos's binding does not use. */
typedef struct {
    double real;
    double imag;
} Py_complex;

static inline Py_complex
PyComplex_AsCComplex(PyObject *op)
{
    Py_complex c;

    c.real = PyComplex_RealAsDouble(op);
    c.imag = PyErr_Occurred() ? -1.0 : PyComplex_ImagAsDouble(op);
    return c;
}

/* gopy's preamble: gopy_method_check, for Python callbacks, which pyos's binding does not take.
 * A bound method's type is the one types.MethodType names "method". */
static inline int
PyMethod_Check(PyObject *op)
{
    PyObject *name = PyObject_GetAttrString((PyObject *)Py_TYPE(op), "__name__");
    int res;

    if (name == NULL) {
        PyErr_Clear();
        return 0;
    }
    res = PyUnicode_CompareWithASCIIString(name, "method") == 0;
    Py_DECREF(name);
    return res;
}

#endif /* Py_LIMITED_API */

#endif /* PYOS_LIMITED_API_COMPAT_H */
