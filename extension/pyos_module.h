/* The Python-facing part of the extension module _pyosgo, which gopy generates from ../binding. */

#ifndef PYOS_MODULE_H
#define PYOS_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* What the Go package is in this build, told by Go once, at module init (go_exports.go):
 * whether Pipe2 is the pipe2 system call, the flags its emulation applies, the packet-mode
 * flag (O_DIRECT) or -1, the flags' values, and the release (malloc'd, for the caller to free). */
struct pyos_go_config {
    int native_pipe2;
    int emulated_flags;
    int packet_mode;
    int o_nonblock;
    int o_cloexec;
    char *version;
};

/* Adds pipe2, pipe, _call_in_fork_gate, HAVE_NATIVE_PIPE2, O_NONBLOCK, O_CLOEXEC, O_DIRECT,
 * __version__ and go_threads.h's functions to m, gives the loading thread its name back
 * (go_threads.h) and the process what Go's start changed (process_state.h), and registers
 * the fork handlers: 0 on success, -1 with an exception set.
 * build.py has pybindgen call it in the module's init function, right after PyModule_Create. */
int pyos_module_init(PyObject *m);

/* Whether this process is a forked child of the one that loaded the extension, which must not enter Go. */
int pyos_in_forked_child(void);

/* Called by Go's runtime at every call from C into Go (runtime.SetCgoTraceback's
 * context function, set in go_entry_guard.go): in a forked child it aborts. */
void pyos_go_entry_guard(void *context_arg);

#endif
