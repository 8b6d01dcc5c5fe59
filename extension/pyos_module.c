/* pyos.pipe2 and pyos.pipe, written as posixmodule writes os.pipe2 and os.pipe,
 * and the fork handling that keeps a forked child out of Go.
 *
 * gopy generates the extension module _pyosgo from ../binding; build.py adds this
 * file to it, and pybindgen's after_init hook calls pyos_module_init right after
 * the module is created. In the process that loaded the extension, Go makes the
 * pipes. A forked child never enters Go: a Go runtime does not survive fork, since
 * the child has only the forking thread and the locks Go's other threads held stay
 * held, so a child that calls into Go can hang for good. A pthread_atfork handler
 * marks every child, also one that CPython is not told about, and a child is
 * served by the system calls themselves. Should anything still call into Go in a
 * child, pyos_go_entry_guard stops it with a message rather than let it hang.
 * Where pipe2 is emulated, the same handler holds Go's fork lock across every fork, so that
 * no fork, whoever makes it, splits an emulated pipe2 from its flags; pyos's
 * posix_spawn, which runs no fork handler, passes the same gate.
 */

#include "pyos_module.h"
#include "process_state.h"
#include "go_threads.h"
#include "_cgo_export.h" /* the Go functions of go_exports.go */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

/* After the includes: the rule is for this file, whatever flags gopy's package gives the
 * compiler (among them -Wno-error and -Wno-implicit-function-declaration, under which a
 * misnamed Go function would link, and fail only when Python loads the module). */
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wimplicit-function-declaration"
#pragma GCC diagnostic error "-Wint-conversion"

/* Whether a forked child can make pipes with the pipe2 system call: pyconfig.h's answer for
 * this C library, which posixmodule's os.pipe2 goes by too. On macOS, whose pipe2 is new in
 * macOS 27, Go's Pipe2 is the emulation, and so is the child's. */
#if defined(HAVE_PIPE2) && !defined(__APPLE__)
#define CHILD_HAS_PIPE2 1
#endif

/* Set in the child of every fork by the pthread_atfork child handler, and never cleared. */
static volatile sig_atomic_t in_forked_child;

/* From Go at module init: whether Pipe2 is the pipe2 system call, the flags its
 * emulation applies, and the packet-mode flag (O_DIRECT), or -1 where there is none. */
static int native_pipe2;
static int emulated_flags;
static int packet_mode;

/* The running CPython's sys.hexversion: before 3.10, its int converter refused floats itself. */
static long runtime_version;

/* Where pipe2 is emulated, a forked child holds this lock from pipe to the last
 * fcntl, and the child's own forks take it, so that no grandchild inherits a pipe
 * without its flags: in the child it stands in for Go's syscall.ForkLock. */
static pthread_mutex_t child_fork_lock = PTHREAD_MUTEX_INITIALIZER;

/* The fork gate, which every fork and every spawn through pyos.posix_spawn passes. None
 * may fall between an emulated pipe2's pipe and its fcntl, but they need not exclude one
 * another: the first in takes the fork lock (Go's syscall.ForkLock, whose read side an
 * emulated pipe2 holds, or the child's own), the last out gives it back. A spawn holds it
 * while os.posix_spawn converts its arguments, which may run Python code and so let
 * another thread fork with the GIL held: that fork passes the gate rather than wait for a
 * spawn that waits for the GIL. */
static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static int gate_holders;
/* How many forks made this process, counted in each child: a call that spans a fork (in the child) is
 * not in the child's gate. */
static unsigned long fork_generation;

/* How many times this thread is in the gate: a pipe2 it makes in there (from Python code
 * that a spawn's arguments run) must not wait for the fork lock the gate holds. */
static _Thread_local int gate_depth;

static void
enter_gate(void)
{
    pthread_mutex_lock(&gate_mutex);
    if (gate_holders++ == 0) {
        if (in_forked_child) {
            pthread_mutex_lock(&child_fork_lock);
        }
        else {
            pyos_go_lock_for_fork();
        }
    }
    pthread_mutex_unlock(&gate_mutex);
    gate_depth++;
}

static void
leave_gate(void)
{
    gate_depth--;
    pthread_mutex_lock(&gate_mutex);
    if (--gate_holders == 0) {
        if (in_forked_child) {
            pthread_mutex_unlock(&child_fork_lock);
        }
        else {
            pyos_go_unlock_after_fork();
        }
    }
    pthread_mutex_unlock(&gate_mutex);
}

/* Where pipe2 is the system call there is no window for a fork to fall into, and a fork
 * does not enter Go: Go's fork lock guards only the emulation. */
static void
before_any_fork(void)
{
    if (!native_pipe2) {
        enter_gate();
    }
}

static void
after_any_fork_in_parent(void)
{
    if (!native_pipe2) {
        leave_gate();
    }
}

static void
after_any_fork_in_child(void)
{
    /* Whoever held the locks at the fork, this thread or one that no longer exists, is done with them. */
    static const pthread_mutex_t unlocked = PTHREAD_MUTEX_INITIALIZER;

    child_fork_lock = unlocked;
    gate_mutex = unlocked;
    gate_holders = 0;
    gate_depth = 0;
    fork_generation++;
    in_forked_child = 1;
    pyos_go_threads_after_fork_in_child();
}

int
pyos_in_forked_child(void)
{
    return in_forked_child;
}

void
pyos_go_entry_guard(void *Py_UNUSED(context_arg))
{
    static const char message[] = "pyos: a forked child called into Go, whose runtime does not survive fork; aborting\n";

    /* The argument's Context stays 0: there is nothing to release when Go returns. */
    if (in_forked_child) {
        if (write(STDERR_FILENO, message, sizeof message - 1) < 0) {
            /* Nothing more can be said. */
        }
        abort();
    }
}

/* pipe2 without the system call: pipe, then fcntl on both ends, as Go's emulation does. */
static int
set_fd_flags(int fd, int flags)
{
    int fl;

    if ((flags & O_CLOEXEC) && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        return -1;
    }
    if (flags & O_NONBLOCK) {
        fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
            return -1;
        }
    }
    return 0;
}

static int
emulated_pipe2(int fds[2], int flags)
{
    pthread_mutex_t *lock;
    int res, saved_errno;

    if (flags & ~emulated_flags) {
        errno = EINVAL;
        return -1;
    }
    /* In the gate, this thread holds the fork lock, and the gate's mutex keeps forks out. */
    lock = gate_depth > 0 ? &gate_mutex : &child_fork_lock;
    pthread_mutex_lock(lock);
    res = pipe(fds);
    if (res == 0 && (set_fd_flags(fds[0], flags) < 0 || set_fd_flags(fds[1], flags) < 0)) {
        saved_errno = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved_errno;
        res = -1;
    }
    pthread_mutex_unlock(lock);
    return res;
}

/* A forked child's pipe2: the system call where Go's Pipe2 uses it, else the emulation. */
static int
pipe2_without_go(int fds[2], int flags)
{
#ifdef CHILD_HAS_PIPE2
    if (native_pipe2) {
        return pipe2(fds, flags);
    }
#endif
    return emulated_pipe2(fds, flags);
}

/* Fills fds with a new pipe's ends, made by Go, or without it in a forked child or in the
 * fork gate: 0, or an errno. */
static int
make_pipe(int flags, int fds[2])
{
    if (!in_forked_child && gate_depth == 0) {
        return pyos_go_pipe2(flags, &fds[0], &fds[1]);
    }
    return pipe2_without_go(fds, flags) < 0 ? errno : 0;
}

/* (read_fd, write_fd), or the OSError for err. The tuple is built directly, not
 * through a format string; should that fail, the pipe is closed, not leaked. */
static PyObject *
fd_pair(int err, const int fds[2])
{
    PyObject *read_fd, *write_fd, *pair;

    if (err != 0) {
        errno = err;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    read_fd = PyLong_FromLong(fds[0]);
    write_fd = PyLong_FromLong(fds[1]);
    pair = read_fd != NULL && write_fd != NULL ? PyTuple_Pack(2, read_fd, write_fd) : NULL;
    Py_XDECREF(read_fd);
    Py_XDECREF(write_fd);
    if (pair == NULL) {
        close(fds[0]);
        close(fds[1]);
    }
    return pair;
}

/* What the C int converter of posixmodule's Argument Clinic code does, redone here for every supported
 * CPython: _PyLong_AsInt (PyLong_AsInt from 3.13) is this, and neither is in the
 * limited API. */
static int
as_c_int(PyObject *arg)
{
    int overflow;
    long value;

    if (runtime_version < 0x030A0000 && PyFloat_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "integer argument expected, got float");
        return -1;
    }
    value = PyLong_AsLongAndOverflow(arg, &overflow);
    if (overflow != 0 || value > INT_MAX || value < INT_MIN) {
        PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to C int");
        return -1;
    }
    return (int)value;
}

PyDoc_STRVAR(pipe2_doc,
"pipe2($module, flags, /)\n"
"--\n"
"\n"
"Create a pipe with flags set atomically.\n"
"\n"
"Returns a tuple of two file descriptors:\n"
"  (read_fd, write_fd)\n"
"\n"
"flags can be constructed by ORing together one or more of these values:\n"
"O_NONBLOCK, O_CLOEXEC and, where pipe2 is the system call on Linux, O_DIRECT.\n"
"The ends are inheritable unless O_CLOEXEC is given.");

static PyObject *
pipe2_impl(PyObject *Py_UNUSED(module), PyObject *arg)
{
    int flags = as_c_int(arg);
    int fds[2], err;

    if (flags == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (native_pipe2) {
        /* Kept, as os.pipe2 keeps it: the system call does not block. */
        err = make_pipe(flags, fds);
    }
    else {
        /* The emulation waits for the fork lock, which a forking thread may hold. */
        Py_BEGIN_ALLOW_THREADS
        err = make_pipe(flags, fds);
        Py_END_ALLOW_THREADS
    }
    return fd_pair(err, fds);
}

PyDoc_STRVAR(pipe_doc,
"pipe($module, /)\n"
"--\n"
"\n"
"Create a pipe.\n"
"\n"
"Returns a tuple of two file descriptors:\n"
"  (read_fd, write_fd)\n"
"\n"
"The ends are not inheritable.");

static PyObject *
pipe_impl(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    int fds[2], err;

    Py_BEGIN_ALLOW_THREADS /* as os.pipe does */
    err = make_pipe(O_CLOEXEC, fds);
    Py_END_ALLOW_THREADS
    return fd_pair(err, fds);
}

PyDoc_STRVAR(call_in_fork_gate_doc,
"_call_in_fork_gate($module, func, /, *args, **kwargs)\n"
"--\n"
"\n"
"Call func(*args, **kwargs) in the fork gate: no emulated pipe2 is between its\n"
"pipe and its fcntl meanwhile. For os.posix_spawn and os.posix_spawnp, which\n"
"run no fork handlers.");

static PyObject *
call_in_fork_gate_impl(PyObject *Py_UNUSED(module), PyObject *args, PyObject *kwargs)
{
    PyObject *func, *func_args, *result;
    unsigned long generation;

    func = PyTuple_GetItem(args, 0); /* borrowed */
    if (func == NULL) {
        return NULL;
    }
    func_args = PyTuple_GetSlice(args, 1, PyTuple_Size(args));
    if (func_args == NULL) {
        return NULL;
    }
    generation = fork_generation;
    /* The gate may wait for an emulated pipe2, which runs without the GIL. */
    Py_BEGIN_ALLOW_THREADS
    enter_gate();
    Py_END_ALLOW_THREADS
    result = PyObject_Call(func, func_args, kwargs);
    /* A fork in func's Python code gave its child a gate of its own, which this call never entered. */
    if (generation == fork_generation) {
        leave_gate();
    }
    Py_DECREF(func_args);
    return result;
}

static PyMethodDef pyos_functions[] = {
    {"pipe2", (PyCFunction)pipe2_impl, METH_O, pipe2_doc},
    {"pipe", (PyCFunction)pipe_impl, METH_NOARGS, pipe_doc},
    {"_call_in_fork_gate", (PyCFunction)(void (*)(void))call_in_fork_gate_impl, METH_VARARGS | METH_KEYWORDS,
     call_in_fork_gate_doc},
    {NULL, NULL, 0, NULL},
};

/* CPython names a builtin's module in its error messages ("pyos.pipe2() takes exactly one argument"). */
static int
set_module_name(PyObject *m, const char *function, PyObject *module_name)
{
    PyObject *func = PyObject_GetAttrString(m, function);
    int res;

    if (func == NULL) {
        return -1;
    }
    res = PyObject_SetAttrString(func, "__module__", module_name);
    Py_DECREF(func);
    return res;
}

static int
add_public_functions(PyObject *m)
{
    PyObject *module_name;
    int res;

    if (PyModule_AddFunctions(m, pyos_functions) < 0 || pyos_go_threads_add_functions(m) < 0) {
        return -1;
    }
    module_name = PyUnicode_FromString("pyos");
    if (module_name == NULL) {
        return -1;
    }
    res = set_module_name(m, "pipe2", module_name) < 0 || set_module_name(m, "pipe", module_name) < 0 ? -1 : 0;
    Py_DECREF(module_name);
    return res;
}

/* What Go told pyos_module_init: HAVE_NATIVE_PIPE2, the flags (O_DIRECT where pipe2 has packet
 * mode) and __version__. Python reads them from the module, without calling into Go. */
static int
add_constants(PyObject *m, const struct pyos_go_config *config)
{
    PyObject *native = PyBool_FromLong(native_pipe2);

    if (PyModule_AddObject(m, "HAVE_NATIVE_PIPE2", native) < 0) { /* steals native only on success */
        Py_DECREF(native);
        return -1;
    }
    if (PyModule_AddIntConstant(m, "O_NONBLOCK", config->o_nonblock) < 0 ||
        PyModule_AddIntConstant(m, "O_CLOEXEC", config->o_cloexec) < 0 ||
        PyModule_AddStringConstant(m, "__version__", config->version) < 0) {
        return -1;
    }
    return packet_mode < 0 ? 0 : PyModule_AddIntConstant(m, "O_DIRECT", packet_mode);
}

/* The running CPython's version, which an extension built for the stable ABI learns only at run time. */
static int
read_runtime_version(void)
{
    PyObject *hexversion = PySys_GetObject("hexversion"); /* borrowed */
    long version;

    if (hexversion == NULL) {
        PyErr_SetString(PyExc_ImportError, "pyos: sys.hexversion is missing");
        return -1;
    }
    version = PyLong_AsLong(hexversion);
    if (version == -1 && PyErr_Occurred()) {
        return -1;
    }
    runtime_version = version;
    return 0;
}

int
pyos_module_init(PyObject *m)
{
    static int atfork_registered;
    struct pyos_go_config config;
    int err;

    pyos_unmark_loading_thread();
    if (read_runtime_version() < 0) {
        return -1;
    }
    /* The first call into Go, which returns once Go's runtime has started. */
    pyos_go_config(&config);
    native_pipe2 = config.native_pipe2;
    emulated_flags = config.emulated_flags;
    packet_mode = config.packet_mode;
    err = pyos_restore_process_state() < 0 || add_constants(m, &config) < 0;
    free(config.version);
    if (err) {
        return -1;
    }
#ifndef CHILD_HAS_PIPE2
    if (native_pipe2) {
        PyErr_SetString(PyExc_ImportError,
                        "pyos: Go uses the pipe2 system call here, but pyos has no pipe2 for a forked child");
        return -1;
    }
#endif
    if (!atfork_registered) {
        err = pthread_atfork(before_any_fork, after_any_fork_in_parent, after_any_fork_in_child);
        if (err != 0) {
            errno = err;
            PyErr_SetFromErrno(PyExc_ImportError);
            return -1;
        }
        atfork_registered = 1;
    }
    if (add_public_functions(m) < 0 || pyos_register_fork_warning_hook(m, runtime_version) < 0) {
        return -1;
    }
#ifdef Py_GIL_DISABLED
    /* Free-threaded CPython may run these functions in parallel, which is safe: the
     * state above is written at init or by the fork handlers, when no other thread
     * runs; Go's side is thread-safe; and gopy's wrappers keep no state of their
     * own but Go's handle table, which a mutex in Go guards. */
    if (PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED) < 0) {
        return -1;
    }
#endif
    return 0;
}
