//go:build (linux || freebsd || netbsd || openbsd || dragonfly || solaris || illumos) && !pyos_emulate

package pyos

import "golang.org/x/sys/unix"

// HaveNativePipe2 reports whether Pipe2 is the pipe2 system call (true) or an emulation under the fork lock (false).
const HaveNativePipe2 = true

// pipe2 calls the pipe2 system call, which applies flags atomically.
func pipe2(flags int) (r, w int, err error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], flags); err != nil {
		return -1, -1, syscallError("pipe2", err)
	}
	return fds[0], fds[1], nil
}
