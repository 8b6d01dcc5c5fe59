/* Go's threads, marked and counted, and CPython's fork warning judged by them.
 *
 * CPython 3.12+ warns on fork() from a process in which it counts more than one OS thread
 * ("This process (pid=N) is multi-threaded, use of fork() may lead to deadlocks in the
 * child."). Go's runtime threads would make it warn at every fork, though no child of pyos
 * enters Go. So before each fork (os.register_at_fork, at module init) the judgement
 * puts two filters first in warnings.filters that ignore that warning where the only threads
 * besides the caller's are Go's, and takes them out otherwise: a warning the user's threads
 * cause is never hidden. It is C, and writes to as little memory as it can, because what runs
 * before a fork costs the fork twice: its own time, and a copy of each page it writes to.
 *
 * CPython's count (get_number_of_os_threads in Modules/posixmodule.c): on Linux the 20th
 * field of /proc/self/stat; on macOS the Mach task's threads. Where that count fails, CPython
 * counts the threading module's threads only, which Go's never are, and the judgement is no.
 *
 * Go's threads, on Linux: Go starts its first thread from the thread that loads the library,
 * and each later one from a Go thread (the binding locks the calling thread whenever C enters
 * Go), and a Linux thread inherits its creator's name. So the loading thread is named
 * GO_THREAD_NAME while the library loads, which marks every thread Go will ever have, and the
 * names in /proc/self/task are read again only when it lists other threads than at the last
 * reading. On macOS, where names are not inherited, Go's own count (runtime/metrics).
 */

#include "go_threads.h"
#include "pyos_module.h"
#include "_cgo_export.h" /* pyos_go_threads */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif
#ifdef __APPLE__
#include <mach/mach.h>
#endif

#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wimplicit-function-declaration"

#define GO_THREAD_NAME "pyos-go"

/* The message of CPython's warning, for the two calls it names: os.fork and os.forkpty. */
#define FORK_WARNING "This process (pid=%ld) is multi-threaded, use of %s() may lead to deadlocks in the child."
static const char *const forks[2] = {"fork", "forkpty"};

/* The two filters while they are in warnings.filters (strong references), or NULL. */
static PyObject *our_filters[2];

#ifdef Py_GIL_DISABLED
/* Guards our_filters and the cache of thread ids where two threads may fork at once. */
static PyMutex judgement_lock;
#endif

static void
lock_judgement(void)
{
#ifdef Py_GIL_DISABLED
    PyMutex_Lock(&judgement_lock);
#endif
}

static void
unlock_judgement(void)
{
#ifdef Py_GIL_DISABLED
    PyMutex_Unlock(&judgement_lock);
#endif
}

#ifdef __linux__

/* The loading thread's name, given back at module init; empty until the constructor has run. */
static char loading_thread_name[16];

/* Before Go's runtime starts, as process_state.c's constructor: ELF runs the constructors of
 * lower priority first, and Go's has none. */
__attribute__((constructor(101))) static void
mark_loading_thread(void)
{
    if (prctl(PR_GET_NAME, loading_thread_name) == 0 && prctl(PR_SET_NAME, GO_THREAD_NAME) != 0) {
        loading_thread_name[0] = '\0';
    }
}

void
pyos_unmark_loading_thread(void)
{
    if (loading_thread_name[0] != '\0') {
        prctl(PR_SET_NAME, loading_thread_name);
        loading_thread_name[0] = '\0';
    }
}

/* CPython's count: the 20th space-separated field of the first 159 bytes of /proc/self/stat,
 * through atoi, as posixmodule reads it (so a process name with a space shifts it there too);
 * 0 where that fails. */
static long
cpython_thread_count(void)
{
    char buffer[160];
    char *field, *saveptr = NULL;
    ssize_t n;
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC), i;

    if (fd < 0) {
        return 0;
    }
    n = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buffer[n] = '\0';
    field = strtok_r(buffer, " ", &saveptr);
    for (i = 1; field != NULL && i < 20; i++) {
        field = strtok_r(NULL, " ", &saveptr);
    }
    return field == NULL ? 0 : atol(field);
}

/* The thread ids listed at the last reading, CPython's count and how many were Go's then; -1: none yet. */
#define CACHED_TIDS 256
static int cached_tids[CACHED_TIDS];
static int cached_count = -1;
static long cached_counted, cached_go_threads;

/* Lists the numeric entries of dir, freshly opened, into tids (at most CACHED_TIDS): their number, or -1. */
static int
list_tids(int dir, int tids[CACHED_TIDS])
{
    /* getdents64 into the stack: opendir's buffer would be a page of the heap written to before each fork. */
    union {
        char bytes[2048];
        unsigned long long align;
    } buffer;
    int count = 0;
    long n, at;

    while ((n = syscall(SYS_getdents64, dir, buffer.bytes, sizeof buffer.bytes)) > 0) {
        for (at = 0; at < n;) {
            /* struct linux_dirent64: d_ino (8 bytes), d_off (8), d_reclen (2), d_type (1), d_name. */
            unsigned short reclen;
            const char *name = buffer.bytes + at + 19;

            memcpy(&reclen, buffer.bytes + at + 16, sizeof reclen);
            at += reclen;
            if (name[0] >= '0' && name[0] <= '9') {
                if (count < CACHED_TIDS) {
                    tids[count] = atoi(name);
                }
                count++;
            }
        }
    }
    return n < 0 ? -1 : count;
}

/* How many of the threads dir lists (their ids in tids, count of them) are named GO_THREAD_NAME. */
static long
count_named(int dir, const int tids[CACHED_TIDS], int count)
{
    static const char go_comm[] = GO_THREAD_NAME "\n";
    char path[32], comm[sizeof go_comm];
    long named = 0;
    ssize_t n;
    int i, fd;

    for (i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%d/comm", tids[i]);
        fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            continue; /* the thread has exited since the listing */
        }
        n = read(fd, comm, sizeof comm);
        close(fd);
        named += n == (ssize_t)sizeof go_comm - 1 && memcmp(comm, go_comm, sizeof go_comm - 1) == 0;
    }
    return named;
}

/* CPython's count and how many of the threads /proc/self/task lists are named GO_THREAD_NAME, both read
 * again only when the list is not the last reading's: while it is the same, so is which threads are Go's,
 * all the judgement needs (CPython's count could differ then only in a process renamed to or from a name
 * with a space since, which can keep a warning but never hide one of the user's threads). With more
 * threads than the cache holds, both are read every time, the names of the first CACHED_TIDS only, which
 * too can only keep a warning. */
static void
linux_thread_counts(long *counted, long *go_threads)
{
    int tids[CACHED_TIDS];
    int dir = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC), count;

    *go_threads = 0;
    if (dir < 0) {
        *counted = cpython_thread_count();
        return;
    }
    count = list_tids(dir, tids);
    if (count >= 0 && count == cached_count && memcmp(tids, cached_tids, (size_t)count * sizeof *tids) == 0) {
        *counted = cached_counted;
        *go_threads = cached_go_threads;
    }
    else {
        *counted = cpython_thread_count();
        if (count >= 0 && *counted > 0) {
            *go_threads = count_named(dir, tids, count < CACHED_TIDS ? count : CACHED_TIDS);
        }
        if (count >= 0 && count <= CACHED_TIDS) {
            memcpy(cached_tids, tids, (size_t)count * sizeof *tids);
            cached_count = count;
            cached_counted = *counted;
            cached_go_threads = *go_threads;
        }
    }
    close(dir);
}

#else /* !__linux__ */

void
pyos_unmark_loading_thread(void)
{
}

/* CPython's count: on macOS, the Mach task's threads (task_for_pid and task_threads, as
 * posixmodule; unlike it, the ports and the array are given back); elsewhere there is none. */
static long
cpython_thread_count(void)
{
    long count = 0;
#ifdef __APPLE__
    task_t task;
    thread_act_array_t threads;
    mach_msg_type_number_t n = 0, i;

    if (task_for_pid(mach_task_self(), getpid(), &task) == KERN_SUCCESS) {
        if (task_threads(task, &threads, &n) == KERN_SUCCESS) {
            count = (long)n;
            for (i = 0; i < n; i++) {
                mach_port_deallocate(mach_task_self(), threads[i]);
            }
            vm_deallocate(mach_task_self(), (vm_address_t)threads, n * sizeof(*threads));
        }
        mach_port_deallocate(mach_task_self(), task);
    }
#endif
    return count;
}

#endif /* __linux__ */

/* The OS threads Go's runtime owns, by its own count: 0 in a forked child, which has none and must not enter Go. */
static long
go_thread_count(void)
{
    return pyos_in_forked_child() ? 0 : pyos_go_threads();
}

/* The number of OS threads CPython counts for its fork warning, and how many of them are Go's: 0 and 0 where
 * CPython's count fails (it counts the threading module's threads then, which Go's never are). The caller
 * holds the judgement's lock. */
static void
thread_counts(long *counted, long *go_threads)
{
#if defined(__linux__)
    linux_thread_counts(counted, go_threads);
#else
    *counted = cpython_thread_count();
#if defined(__APPLE__)
    *go_threads = *counted > 0 ? go_thread_count() : 0;
#else
    *go_threads = 0;
#endif
#endif
    if (*counted <= 0) {
        *counted = 0;
        *go_threads = 0;
    }
}

/* The filters that ignore CPython's warning in this process, as _warnings compares them: plain text is
 * compared whole (warnings.filterwarnings would compile a regular expression, which costs each fork more). */
static int
make_filters(PyObject *filters[2])
{
    int i;

    for (i = 0; i < 2; i++) {
        PyObject *message = PyUnicode_FromFormat(FORK_WARNING, (long)getpid(), forks[i]);

        filters[i] = message == NULL ? NULL
                                     : Py_BuildValue("(sNOOi)", "ignore", message, PyExc_DeprecationWarning, Py_None, 0);
        if (filters[i] == NULL) {
            if (i == 1) {
                Py_CLEAR(filters[0]);
            }
            return -1;
        }
    }
    return 0;
}

/* Takes our filters out of the list filters, wherever they are. */
static int
remove_ours(PyObject *filters)
{
    int i;

    for (i = 0; i < 2; i++) {
        Py_ssize_t at, size = PyList_Size(filters);

        for (at = 0; at < size && PyList_GetItem(filters, at) != our_filters[i]; at++) {
        }
        if (at < size && PySequence_DelItem(filters, at) < 0) {
            return -1;
        }
        Py_CLEAR(our_filters[i]);
    }
    return 0;
}

/* Puts our filters first in filters where only_go, or takes them out: 0, or -1 with an exception set. */
static int
place_filters(PyObject *filters, int only_go)
{
    PyObject *made[2];
    int i;

    if (only_go && PyList_Size(filters) >= 2 && our_filters[0] != NULL && PyList_GetItem(filters, 0) == our_filters[0] &&
        PyList_GetItem(filters, 1) == our_filters[1]) {
        return 0; /* first already: left alone, which costs a fork nothing more */
    }
    /* Put first, or back in front of filters added since. No _filters_mutated: that only empties the
     * registries of warnings already shown, which an ignore filter leaves shown. */
    if (remove_ours(filters) < 0) {
        return -1;
    }
    if (!only_go) {
        return 0;
    }
    if (make_filters(made) < 0) {
        return -1;
    }
    for (i = 0; i < 2; i++) {
        if (PyList_Insert(filters, i, made[i]) < 0) {
            Py_DECREF(made[i]);
            if (i == 0) {
                Py_DECREF(made[1]);
            }
            return -1;
        }
        our_filters[i] = made[i];
    }
    return 0;
}

/* warnings.filters where it is a list (a new reference); NULL with no exception where it is not, or where
 * warnings is not imported and need_it is 0 (then no filter of ours is in it either). */
static PyObject *
warnings_filters(int need_it)
{
    static PyObject *name; /* "warnings", made once */
    PyObject *warnings, *filters;

    if (name == NULL && (name = PyUnicode_InternFromString("warnings")) == NULL) {
        return NULL;
    }
    warnings = PyImport_GetModule(name);
    if (warnings == NULL && !PyErr_Occurred() && need_it) {
        warnings = PyImport_Import(name);
    }
    if (warnings == NULL) {
        return NULL;
    }
    filters = PyObject_GetAttrString(warnings, "filters");
    Py_DECREF(warnings);
    if (filters != NULL && !PyList_Check(filters)) {
        Py_CLEAR(filters); /* the user's own object: left alone */
    }
    return filters;
}

PyDoc_STRVAR(fork_warning_before_doc,
"_fork_warning_before($module, /)\n"
"--\n"
"\n"
"Before a fork: put first in warnings.filters the filters that ignore CPython's\n"
"multi-threading fork warning where the only threads besides the caller's are\n"
"Go's, and take them out otherwise.");

static PyObject *
fork_warning_before_impl(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    PyObject *filters;
    long counted, go_threads;
    int only_go, ours_placed, err;

    lock_judgement();
    thread_counts(&counted, &go_threads);
    only_go = go_threads > 0 && counted - go_threads <= 1;
    ours_placed = our_filters[0] != NULL;
    unlock_judgement();
    /* Where the user's threads run and no filter of ours is placed, there is nothing to do. Otherwise the
     * filters are fetched before they are looked at: importing warnings, where a judgement needs it, may
     * run Python code, and so let another thread fork. */
    filters = only_go || ours_placed ? warnings_filters(only_go) : NULL;
    if (filters == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_INCREF(Py_None); /* not Py_RETURN_NONE: see bench/floor/floor_module.c */
        return Py_None;
    }
    lock_judgement();
    err = place_filters(filters, only_go);
    unlock_judgement();
    Py_DECREF(filters);
    if (err < 0) {
        return NULL;
    }
    Py_INCREF(Py_None);
    return Py_None;
}

PyDoc_STRVAR(thread_counts_doc,
"_thread_counts($module, /)\n"
"--\n"
"\n"
"The OS threads CPython counts for its fork warning, and how many of them are\n"
"Go's: (0, 0) where CPython counts the threading module's threads instead.");

static PyObject *
thread_counts_impl(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    long counted, go_threads;

    lock_judgement();
    thread_counts(&counted, &go_threads);
    unlock_judgement();
    return Py_BuildValue("(ll)", counted, go_threads);
}

PyDoc_STRVAR(go_thread_count_doc,
"_go_thread_count($module, /)\n"
"--\n"
"\n"
"The OS threads Go's runtime owns in this process, by its own count; 0 in a\n"
"forked child, which has none of them and must not enter Go.");

static PyObject *
go_thread_count_impl(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromLong(go_thread_count());
}

static PyMethodDef go_threads_functions[] = {
    {"_fork_warning_before", (PyCFunction)fork_warning_before_impl, METH_NOARGS, fork_warning_before_doc},
    {"_thread_counts", (PyCFunction)thread_counts_impl, METH_NOARGS, thread_counts_doc},
    {"_go_thread_count", (PyCFunction)go_thread_count_impl, METH_NOARGS, go_thread_count_doc},
    {NULL, NULL, 0, NULL},
};

int
pyos_go_threads_add_functions(PyObject *m)
{
    if (PyModule_AddFunctions(m, go_threads_functions) < 0) {
        return -1;
    }
    return PyModule_AddStringConstant(m, "_GO_THREAD_NAME", GO_THREAD_NAME);
}

int
pyos_register_fork_warning_hook(PyObject *m, long runtime_version)
{
    static int registered;
    PyObject *hook, *os, *args = NULL, *kwargs = NULL, *result = NULL;

    if (registered || runtime_version < 0x030C0000) {
        return 0;
    }
    hook = PyObject_GetAttrString(m, "_fork_warning_before");
    os = hook == NULL ? NULL : PyImport_ImportModule("os");
    if (os != NULL) {
        args = PyTuple_New(0);
        kwargs = args == NULL ? NULL : Py_BuildValue("{sO}", "before", hook);
    }
    if (kwargs != NULL) {
        PyObject *register_at_fork = PyObject_GetAttrString(os, "register_at_fork");

        if (register_at_fork != NULL) {
            result = PyObject_Call(register_at_fork, args, kwargs);
            Py_DECREF(register_at_fork);
        }
    }
    Py_XDECREF(kwargs);
    Py_XDECREF(args);
    Py_XDECREF(os);
    Py_XDECREF(hook);
    if (result == NULL) {
        return -1;
    }
    Py_DECREF(result);
    registered = 1;
    return 0;
}

void
pyos_go_threads_after_fork_in_child(void)
{
#ifdef Py_GIL_DISABLED
    static const PyMutex unlocked;

    judgement_lock = unlocked;
#endif
}
