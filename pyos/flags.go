package pyos

import "golang.org/x/sys/unix"

// Flags accepted by Pipe2 on every OS, with the values of the host's <fcntl.h>.
const (
	O_NONBLOCK = unix.O_NONBLOCK // O_NONBLOCK makes reads and writes on either end non-blocking.
	O_CLOEXEC  = unix.O_CLOEXEC  // O_CLOEXEC closes both ends on exec, so child processes do not inherit them.
)

// EmulatedFlags are the flags Pipe2 applies where it emulates pipe2 (HaveNativePipe2 false); others fail with EINVAL there.
const EmulatedFlags = O_NONBLOCK | O_CLOEXEC
