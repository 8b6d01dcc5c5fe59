//go:build unix && (!(linux || freebsd || netbsd || openbsd || dragonfly || solaris || illumos) || pyos_emulate) && pyos_pipe2_window

package pyos

// A build with the pyos_pipe2_window tag (the Makefile's emulated test build, never a release) lets a program
// outside Go, the Python tests, stop the emulated Pipe2 between pipe and fcntl: with
// PYOS_PIPE2_WINDOW="REPORT,RELEASE" in the environment at start, every Pipe2 writes its pipe's fds to fd REPORT
// as "r w\n", then stays in the window until fd RELEASE has a byte to read or a fork waits for the fork lock.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

func init() {
	spec, set := os.LookupEnv("PYOS_PIPE2_WINDOW")
	if !set {
		return
	}
	report, release, err := parseWindowFDs(spec)
	if err != nil {
		panic(err)
	}
	betweenPipeAndFcntl = func(r, w int) {
		if err := stayInTheWindow(report, release, r, w); err != nil {
			panic(err)
		}
	}
}

// parseWindowFDs returns the fds that PYOS_PIPE2_WINDOW names.
func parseWindowFDs(spec string) (report, release int, err error) {
	reportText, releaseText, found := strings.Cut(spec, ",")
	report, reportErr := strconv.Atoi(reportText)
	release, releaseErr := strconv.Atoi(releaseText)
	if !found || reportErr != nil || releaseErr != nil || report < 0 || release < 0 {
		return -1, -1, fmt.Errorf("PYOS_PIPE2_WINDOW=%q: want two fds, REPORT,RELEASE", spec)
	}
	return report, release, nil
}

// stayInTheWindow reports the pipe r, w to fd report, then returns once fd release has a byte to read (which it
// reads) or a fork waits for syscall.ForkLock.
func stayInTheWindow(report, release, r, w int) error {
	if _, err := unix.Write(report, fmt.Appendf(nil, "%d %d\n", r, w)); err != nil {
		return os.NewSyscallError("write", err)
	}
	fds := []unix.PollFd{{Fd: int32(release), Events: unix.POLLIN}}
	for {
		// Pipe2 holds the read side of the lock: TryRLock fails only while a fork waits for the write side.
		if !syscall.ForkLock.TryRLock() {
			return nil
		}
		syscall.ForkLock.RUnlock()
		n, err := unix.Poll(fds, 1)
		if err != nil && err != unix.EINTR {
			return os.NewSyscallError("poll", err)
		}
		if n > 0 {
			_, err := unix.Read(release, make([]byte, 1))
			return os.NewSyscallError("read", err)
		}
	}
}
