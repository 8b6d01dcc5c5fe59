// Package pyos creates pipes with flags applied atomically, as pipe2(2) does.
//
// The same package is compiled, through a flat binding in ../binding, into the
// CPython extension behind the Python module pyos, whose pipe2 is a drop-in for
// os.pipe2. Functions here return raw file descriptors, as golang.org/x/sys/unix
// does, so that ownership stays with the caller: nothing in this package closes a
// descriptor behind the caller's back and nothing sets a finalizer.
//
// Code in this package never writes to standard output or standard error: inside
// a Python process, a Go write to a broken stdout raises SIGPIPE and kills the
// interpreter.
package pyos
