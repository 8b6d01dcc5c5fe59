package pyos

import "golang.org/x/sys/unix"

// Flags accepted by Pipe2 on every OS, with the values of the host's <fcntl.h>.
const (
	O_NONBLOCK = unix.O_NONBLOCK // O_NONBLOCK makes reads and writes on either end non-blocking.
	O_CLOEXEC  = unix.O_CLOEXEC  // O_CLOEXEC closes both ends on exec, so child processes do not inherit them.
)
