package pyos

import "golang.org/x/sys/unix"

// Flags accepted by Pipe2, with the values of the host's <fcntl.h>.
const (
	O_NONBLOCK = unix.O_NONBLOCK // O_NONBLOCK makes reads and writes on either end non-blocking.
	O_CLOEXEC  = unix.O_CLOEXEC  // O_CLOEXEC closes both ends on exec, so child processes do not inherit them.
	O_DIRECT   = unix.O_DIRECT   // O_DIRECT puts the pipe in packet mode: each write is read back as one packet.
)

// HasODirect reports whether the OS supports O_DIRECT (packet mode) for pipes.
const HasODirect = true
