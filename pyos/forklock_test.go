package pyos_test

import (
	"runtime"
	"syscall"
	"testing"

	"github.com/pyos-project/pyos/pyos"
)

// aReaderGetsIn reports whether a reader of syscall.ForkLock, as an emulated Pipe2 and Go's own fd setup are, would
// get in now. TryRLock answers at once and by the lock's state alone: it fails exactly while a writer holds the
// lock or waits for it, so nothing here depends on how fast the machine is.
func aReaderGetsIn() bool {
	if !syscall.ForkLock.TryRLock() {
		return false
	}
	syscall.ForkLock.RUnlock()
	return true
}

func TestLockForForkExcludesForkLockReaders(t *testing.T) {
	if !aReaderGetsIn() {
		t.Fatal("the control: a ForkLock reader does not get in before LockForFork")
	}
	pyos.LockForFork()
	if aReaderGetsIn() { // then no writer holds the lock: there is nothing for UnlockAfterFork to give back
		t.Fatal("a ForkLock reader got in while LockForFork was held")
	}
	pyos.UnlockAfterFork()
	if !aReaderGetsIn() {
		t.Fatal("after UnlockAfterFork a ForkLock reader does not get in")
	}
}

func TestLockForForkWaitsForForkLockReaders(t *testing.T) {
	syscall.ForkLock.RLock() // a reader inside, as an emulated Pipe2 between pipe and fcntl is
	locked := make(chan struct{})
	go func() {
		pyos.LockForFork()
		close(locked)
	}()
	// The handshake: readers stop getting in once LockForFork waits for the write side. Until then it may not
	// have started, or it may have returned, which it must not while the reader is inside.
	for aReaderGetsIn() {
		select {
		case <-locked: // without the write side, which no one gets while a reader is inside: nothing to give back
			syscall.ForkLock.RUnlock()
			t.Fatal("LockForFork returned while a ForkLock reader was inside")
		default:
			runtime.Gosched()
		}
	}
	select {
	case <-locked:
		syscall.ForkLock.RUnlock()
		t.Fatal("LockForFork returned while a ForkLock reader was inside")
	default: // waiting, as it must while the reader holds the read side
	}
	syscall.ForkLock.RUnlock()
	<-locked // the reader gone, LockForFork gets the lock
	pyos.UnlockAfterFork()
	if !aReaderGetsIn() {
		t.Fatal("after UnlockAfterFork a ForkLock reader does not get in")
	}
}
