/* The process as it was before Go's runtime was loaded into it, and given back. */

#ifndef PYOS_PROCESS_STATE_H
#define PYOS_PROCESS_STATE_H

/* Gives back, once Go's runtime has started (after the first call into Go), what starting it
 * changed: the signals that were ignored before are ignored again, and every resource limit
 * is what it was. 0, or -1 with an ImportError set. */
int pyos_restore_process_state(void);

#endif
