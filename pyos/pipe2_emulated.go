//go:build unix && (!(linux || freebsd || netbsd || openbsd || dragonfly || solaris || illumos) || pyos_emulate)

package pyos

import (
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// HaveNativePipe2 reports whether Pipe2 is the pipe2 system call (true) or an emulation under the fork lock (false).
const HaveNativePipe2 = false

// betweenPipeAndFcntl, when set, is called with a new pipe's fds before their flags are set: in the window the
// fork lock closes, where tests stop an emulated pipe2 to fork or exec in it.
var betweenPipeAndFcntl func(r, w int)

// pipe2 emulates pipe2 with pipe and fcntl under the read side of syscall.ForkLock.
//
// The lock is what makes the emulation atomic with respect to fork: Go's
// ForkExec and the fork hooks of the Python extension (through LockForFork) take
// its write side, so no child is created between pipe and FD_CLOEXEC, and no
// exec'd program inherits an end meant to be close-on-exec.
func pipe2(flags int) (r, w int, err error) {
	return pipe2Locked(flags, syscall.ForkLock.RLocker())
}

func pipe2Locked(flags int, forkLock sync.Locker) (r, w int, err error) {
	if flags&^EmulatedFlags != 0 {
		return -1, -1, syscallError("pipe2", unix.EINVAL)
	}
	forkLock.Lock()
	defer forkLock.Unlock()
	var fds [2]int
	if err := unix.Pipe(fds[:]); err != nil {
		return -1, -1, syscallError("pipe", err)
	}
	if betweenPipeAndFcntl != nil {
		betweenPipeAndFcntl(fds[0], fds[1])
	}
	for _, fd := range fds {
		if err := setFlags(fd, flags); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			return -1, -1, err
		}
	}
	return fds[0], fds[1], nil
}

func setFlags(fd, flags int) error {
	if flags&O_CLOEXEC != 0 {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
			return syscallError("fcntl", err)
		}
	}
	if flags&O_NONBLOCK != 0 {
		if err := unix.SetNonblock(fd, true); err != nil {
			return syscallError("fcntl", err)
		}
	}
	return nil
}
