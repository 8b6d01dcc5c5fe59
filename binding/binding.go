// Package binding is the flat surface that gopy compiles into the CPython extension.
//
// gopy turns every Go error into RuntimeError and every slice into a handle
// object whose finalizer calls back into Go, so nothing here returns either:
// results are plain integers, and a failure is a negative errno. A pipe's two
// fds travel packed in one int64, since gopy returns one value. The extension's
// C functions (../extension/pyos_module.c, through ../extension/go_exports.go)
// make the calls that matter: they convert the Python argument to a C int as
// os.pipe2 does, and turn the result into the (read_fd, write_fd) tuple or the
// OSError that os.pipe2 would give.
//
// Each entry point runs with the calling thread locked (runtime.LockOSThread).
// A thread Go starts from a locked thread is cloned by Go's template thread, not
// by the caller, so every OS thread of Go's inherits the name python/pyos gave the
// thread that loaded the runtime; that is how python/pyos tells Go's threads from
// the user's when it decides whether a fork needs CPython's multi-threading warning.
package binding

import (
	"errors"
	"os"
	"runtime"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

// Pipe2 creates a pipe and returns its fds packed as read<<32 | write, or -errno on failure.
func Pipe2(flags int) int64 {
	defer lockCallerThread()()
	return pack(pyos.Pipe2(flags))
}

// BeforeFork takes the fork lock before the host process forks.
func BeforeFork() {
	defer lockCallerThread()()
	pyos.LockForFork()
}

// AfterForkInParent releases the fork lock in the parent once the fork is done.
func AfterForkInParent() {
	defer lockCallerThread()()
	pyos.UnlockAfterFork()
}

// ONonblock returns the value of O_NONBLOCK.
func ONonblock() int {
	defer lockCallerThread()()
	return pyos.O_NONBLOCK
}

// OCloexec returns the value of O_CLOEXEC.
func OCloexec() int {
	defer lockCallerThread()()
	return pyos.O_CLOEXEC
}

// EmulatedFlags returns the flags that Pipe2 applies where it emulates pipe2; others fail with EINVAL there.
func EmulatedFlags() int {
	defer lockCallerThread()()
	return pyos.EmulatedFlags
}

// PacketMode returns the packet-mode flag, O_DIRECT, or -1 where Pipe2 has no packet mode.
func PacketMode() int {
	defer lockCallerThread()()
	if !pyos.HavePacketMode {
		return -1
	}
	return pyos.PacketMode
}

// HaveNativePipe2 returns 1 where Pipe2 is the pipe2 system call, 0 where it is emulated.
func HaveNativePipe2() int {
	defer lockCallerThread()()
	if pyos.HaveNativePipe2 {
		return 1
	}
	return 0
}

// pack encodes a pipe result in one int64, because gopy cannot return (int, int, error).
func pack(r, w int, err error) int64 {
	if err != nil {
		return -int64(errnoOf(err))
	}
	return int64(r)<<32 | int64(w)
}

// errnoOf extracts the errno behind err, falling back to EINVAL for errors without one.
func errnoOf(err error) unix.Errno {
	// The direct look at Pipe2's own error type spares errors.As, and its allocation, on the common path.
	if se, ok := err.(*os.SyscallError); ok {
		if errno, ok := se.Err.(unix.Errno); ok && errno != 0 {
			return errno
		}
	}
	var errno unix.Errno
	if errors.As(err, &errno) && errno != 0 {
		return errno
	}
	return unix.EINVAL
}

// Version returns the release of the Go package, the one source of pyos.__version__.
func Version() string {
	defer lockCallerThread()()
	return pyos.Version
}

// lockCallerThread locks the calling thread to Go for the length of a call, and returns the unlock.
func lockCallerThread() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
