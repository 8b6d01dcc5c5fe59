package pyos

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipe2 calls the pipe2 system call, which applies flags atomically.
func pipe2(flags int) (r, w int, err error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], flags); err != nil {
		return -1, -1, os.NewSyscallError("pipe2", err)
	}
	return fds[0], fds[1], nil
}
