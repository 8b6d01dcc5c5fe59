// Package binding is the flat surface that gopy compiles into the CPython extension.
//
// gopy writes a Python wrapper for every function here that it can bind, turns
// every Go error into RuntimeError and every slice into a handle object whose
// finalizer calls back into Go, so nothing here returns either: results are
// plain integers, and a failure is an errno. The extension's C reads the release
// and the flags' values once, at module init, through a Go export of its own
// (../extension/go_exports.go), so that importing pyos in Python calls no gopy
// wrapper: a forked child may import it again. Pipe2 has three results, which gopy
// does not bind (build.py checks that it wrote no wrapper for it): the
// extension's C (../extension/pyos_module.c) calls it through a Go export of its
// own (../extension/go_exports.go), converting the argument as os.pipe2 does and
// raising the OSError os.pipe2 would.
//
// Each function runs with the calling thread locked (runtime.LockOSThread). A
// thread Go starts from a locked thread is cloned by Go's template thread, not by
// the caller, so every OS thread of Go's inherits the name python/pyos gave the
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

// Pipe2 creates a pipe and returns its read and write ends, or the errno of the failure.
func Pipe2(flags int) (r, w int, errno unix.Errno) {
	runtime.LockOSThread()
	r, w, err := pyos.Pipe2(flags)
	runtime.UnlockOSThread() // nothing between the two can panic
	if err != nil {
		return -1, -1, errnoOf(err)
	}
	return r, w, 0
}

// ONonblock returns the value of O_NONBLOCK.
func ONonblock() int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return pyos.O_NONBLOCK
}

// OCloexec returns the value of O_CLOEXEC.
func OCloexec() int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return pyos.O_CLOEXEC
}

// Version returns the release of the Go package, the one source of pyos.__version__.
func Version() string {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return pyos.Version
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
