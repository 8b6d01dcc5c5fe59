/* Go's threads, marked and counted, and CPython's fork warning judged by them. */

#ifndef PYOS_GO_THREADS_H
#define PYOS_GO_THREADS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Gives the thread that loaded the library its name back: Go's first thread has been cloned
 * from it under GO_THREAD_NAME by then. Called first thing at module init. */
void pyos_unmark_loading_thread(void);

/* Adds _fork_warning_before, _thread_counts, _go_thread_count and _GO_THREAD_NAME to m:
 * 0, or -1 with an exception set. */
int pyos_go_threads_add_functions(PyObject *m);

/* On CPython 3.12+, whose fork() warns of threads, registers m's _fork_warning_before with
 * os.register_at_fork, once: 0, or -1 with an exception set. */
int pyos_register_fork_warning_hook(PyObject *m, long runtime_version);

/* In a forked child, from the pthread_atfork child handler: the lock the judgement takes may
 * have been held by a thread the child does not have. */
void pyos_go_threads_after_fork_in_child(void);

#endif
