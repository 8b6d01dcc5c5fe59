/* The Python-facing part of the extension module _pyosgo, which gopy generates from ../binding. */

#ifndef PYOS_MODULE_H
#define PYOS_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Adds pipe2, pipe, HAVE_NATIVE_PIPE2 and O_DIRECT to m and registers the fork handlers:
 * 0 on success, -1 with an exception set.
 * build.py has pybindgen call it in the module's init function, right after PyModule_Create. */
int pyos_module_init(PyObject *m);

/* Called by Go's runtime at every call from C into Go (runtime.SetCgoTraceback's
 * context function, set in go_entry_guard.go): in a forked child it aborts. */
void pyos_go_entry_guard(void *context_arg);

#endif
