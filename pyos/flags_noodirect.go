//go:build unix && (!linux || pyos_emulate)

package pyos

// HasODirect reports whether Pipe2 accepts O_DIRECT (packet mode), which only Linux's pipe2 system call offers.
const HasODirect = false
