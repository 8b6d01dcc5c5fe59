package pyos_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/pyos-project/pyos/pyos"
)

func TestLockForForkExcludesForkLockReaders(t *testing.T) {
	pyos.LockForFork()
	readerDone := make(chan struct{})
	go func() {
		syscall.ForkLock.RLock() // what an emulated Pipe2 and Go's own fd setup take
		syscall.ForkLock.RUnlock()
		close(readerDone)
	}()
	select {
	case <-readerDone:
		t.Fatal("a ForkLock reader got in while LockForFork was held")
	case <-time.After(50 * time.Millisecond):
	}
	pyos.UnlockAfterFork()
	select {
	case <-readerDone:
	case <-time.After(10 * time.Second):
		t.Fatal("UnlockAfterFork did not let the reader in")
	}
}
