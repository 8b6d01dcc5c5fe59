package pyos

import "syscall"

// LockForFork takes the write side of syscall.ForkLock, the lock Go's own ForkExec takes.
//
// Go programs never need it: os/exec takes the lock itself. It is for hosts that
// embed this package and fork outside Go, like CPython's os.fork: holding the
// lock across the fork keeps pipe creation that must be atomic with respect to
// fork (an emulated Pipe2, which takes the read side) out of the forked child.
func LockForFork() {
	syscall.ForkLock.Lock()
}

// UnlockAfterFork releases the lock taken by LockForFork, in the parent after the fork.
func UnlockAfterFork() {
	syscall.ForkLock.Unlock()
}
