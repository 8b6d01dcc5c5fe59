package pyos

import (
	"fmt"
	"math"

	"golang.org/x/sys/unix"
)

// Pipe2 creates a pipe whose two ends both carry flags, and returns the read and write ends.
//
// Flags is a combination of O_NONBLOCK, O_CLOEXEC and, where the OS has it,
// O_DIRECT. Flags the kernel rejects yield an error that matches unix.EINVAL
// under errors.Is. Unlike pipe2(2), flags outside the range of a C int are also
// rejected with EINVAL, before the system call: Go's int has 64 bits and the
// kernel would silently truncate them.
func Pipe2(flags int) (r, w int, err error) {
	if flags < math.MinInt32 || flags > math.MaxInt32 {
		return -1, -1, fmt.Errorf("pipe2: flags %#x outside the C int range: %w", flags, unix.EINVAL)
	}
	return pipe2(flags)
}

// Pipe creates a pipe whose ends are closed on exec, as Python's os.pipe does.
func Pipe() (r, w int, err error) {
	return Pipe2(O_CLOEXEC)
}
