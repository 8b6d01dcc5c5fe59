//go:build linux && !pyos_emulate

package pyos

import "golang.org/x/sys/unix"

// O_DIRECT puts the pipe in packet mode: each write is read back as one packet.
const O_DIRECT = unix.O_DIRECT

// HasODirect reports whether Pipe2 accepts O_DIRECT (packet mode), which only Linux's pipe2 system call offers.
const HasODirect = true
