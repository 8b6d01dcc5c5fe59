/* What loading Go's runtime changes in the process, given back.
 *
 * Go's runtime, loaded as a shared library, starts on a thread of its own and, before
 * its first call from C returns, installs its handler for SIGPIPE (and the synchronous
 * signals and its preemption signal) whatever the disposition was, and raises the soft
 * RLIMIT_NOFILE to the hard limit (its syscall package's init). An ignored signal that
 * becomes caught is reset to the default by exec, so every program the process later
 * runs would get a SIGPIPE it did not before; and the user's open-files limit would be
 * gone. A constructor that runs before Go's (a lower init priority) records the process
 * as it was; pyos_restore_process_state gives it back.
 */

#include "pyos_module.h"
#include "process_state.h"
#include "_cgo_export.h" /* pyos_go_ignore_signal */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wimplicit-function-declaration"

#ifndef NSIG
#define NSIG 65
#endif

static sigset_t ignored_at_load;
static struct rlimit limits_at_load[RLIM_NLIMITS];
static int recorded;

static int
is_ignored(int sig)
{
    struct sigaction action;

    return sigaction(sig, NULL, &action) == 0 && !(action.sa_flags & SA_SIGINFO) && action.sa_handler == SIG_IGN;
}

/* Before Go's runtime starts: ELF runs the constructors of lower priority first, and Go's
 * has none. Mach-O has no priorities: dyld runs the initializers in link order, Go's first,
 * and Go's starts the runtime on a thread of its own, which may have taken the signals by the
 * time this runs; there, python_ignores stands in. */
#ifdef __APPLE__
__attribute__((constructor))
#else
__attribute__((constructor(101)))
#endif
static void
record_process_state(void)
{
    int sig, resource;

    sigemptyset(&ignored_at_load);
    for (sig = 1; sig < NSIG; sig++) {
        if (is_ignored(sig)) {
            sigaddset(&ignored_at_load, sig);
        }
    }
    for (resource = 0; resource < RLIM_NLIMITS; resource++) {
        if (getrlimit(resource, &limits_at_load[resource]) < 0) {
            limits_at_load[resource].rlim_cur = limits_at_load[resource].rlim_max = RLIM_INFINITY;
        }
    }
    recorded = 1;
}

#ifdef __APPLE__
/* Python's signal module's getsignal and SIG_IGN (new references), or NULLs where it cannot tell. */
static void
python_signal_view(PyObject **getsignal, PyObject **ignore)
{
    PyObject *signal_module = PyImport_ImportModule("signal");

    *getsignal = *ignore = NULL;
    if (signal_module != NULL) {
        *getsignal = PyObject_GetAttrString(signal_module, "getsignal");
        *ignore = PyObject_GetAttrString(signal_module, "SIG_IGN");
        Py_DECREF(signal_module);
    }
    PyErr_Clear();
}
#endif

/* Whether Python's signal module has sig ignored: what CPython set, or found at its start, or
 * was told by signal.signal. Asked on macOS only (see record_process_state). */
static int
python_ignores(PyObject *getsignal, PyObject *ignore, int sig)
{
    PyObject *handler;
    int ignored;

    if (getsignal == NULL || ignore == NULL) {
        return 0;
    }
    handler = PyObject_CallFunction(getsignal, "i", sig);
    ignored = handler != NULL && PyObject_RichCompareBool(handler, ignore, Py_EQ) == 1;
    PyErr_Clear(); /* a signal number the module does not take */
    Py_XDECREF(handler);
    return ignored;
}

/* Each signal ignored before the load is ignored again, through Go's os/signal, so that Go's
 * runtime knows it: a Go write to a broken pipe then fails with EPIPE, as Python's do. Go
 * keeps the synchronous signals (SIGSEGV, SIGBUS, SIGFPE), which turn its faults into panics. */
static void
restore_ignored_signals(void)
{
    PyObject *getsignal = NULL, *ignore = NULL;
    int sig;

#ifdef __APPLE__
    python_signal_view(&getsignal, &ignore);
#endif
    for (sig = 1; sig < NSIG; sig++) {
        if ((sigismember(&ignored_at_load, sig) == 1 || python_ignores(getsignal, ignore, sig)) && !is_ignored(sig)) {
            pyos_go_ignore_signal(sig);
        }
    }
    Py_XDECREF(getsignal);
    Py_XDECREF(ignore);
}

static int
restore_limits(void)
{
    struct rlimit now;
    int resource;

    for (resource = 0; resource < RLIM_NLIMITS; resource++) {
        if (getrlimit(resource, &now) < 0) {
            continue;
        }
        if (now.rlim_cur != limits_at_load[resource].rlim_cur || now.rlim_max != limits_at_load[resource].rlim_max) {
            if (setrlimit(resource, &limits_at_load[resource]) < 0) {
                PyErr_Format(PyExc_ImportError, "pyos: cannot give back resource limit %d after Go's start: %s",
                             resource, strerror(errno));
                return -1;
            }
        }
    }
    return 0;
}

int
pyos_restore_process_state(void)
{
    static int restored;

    /* Once: a later init (a subinterpreter's) must not undo what the program has set since. */
    if (restored) {
        return 0;
    }
    if (!recorded) {
        PyErr_SetString(PyExc_ImportError, "pyos: the process was not recorded before Go's runtime started");
        return -1;
    }
    restore_ignored_signals();
    if (restore_limits() < 0) {
        return -1;
    }
    restored = 1;
    return 0;
}
