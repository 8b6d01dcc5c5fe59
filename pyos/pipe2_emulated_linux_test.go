//go:build linux && pyos_emulate

package pyos

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// inodeOf returns the inode of fd's pipe, which both ends share.
func inodeOf(t *testing.T, fd int) uint64 {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// childHasPipe execs `ls -l /proc/self/fd` and reports whether the child has an end of the pipe of inode ino open.
func childHasPipe(t *testing.T, ino uint64) bool {
	out, err := exec.Command("ls", "-l", "/proc/self/fd").Output()
	if err != nil {
		t.Error(err)
	}
	return strings.Contains(string(out), fmt.Sprintf("pipe:[%d]", ino))
}

// stoppedPipe2 is an O_CLOEXEC pipe2 call stopped between pipe and fcntl.
type stoppedPipe2 struct {
	ino       uint64 // the pipe's inode
	holdsLock bool   // whether the window holds syscall.ForkLock
	leave     chan struct{}
	errs      chan error
}

// stopInTheWindow starts pipe2(O_CLOEXEC) in a goroutine and returns once pipe2 has made the pipe and not yet set
// its flags.
func stopInTheWindow(t *testing.T, pipe2 func(flags int) (r, w int, err error)) *stoppedPipe2 {
	t.Helper()
	entered := make(chan int)
	s := &stoppedPipe2{leave: make(chan struct{}), errs: make(chan error, 1)}
	betweenPipeAndFcntl = func(r, _ int) {
		if s.holdsLock = !syscall.ForkLock.TryLock(); !s.holdsLock {
			syscall.ForkLock.Unlock()
		}
		entered <- r
		<-s.leave
	}
	t.Cleanup(func() { betweenPipeAndFcntl = nil })
	go func() {
		r, w, err := pipe2(O_CLOEXEC)
		if err == nil {
			unix.Close(r)
			unix.Close(w)
		}
		s.errs <- err
	}()
	s.ino = inodeOf(t, <-entered)
	return s
}

// finish lets pipe2 go on, and fails the test if it failed.
func (s *stoppedPipe2) finish(t *testing.T) {
	t.Helper()
	close(s.leave)
	if err := <-s.errs; err != nil {
		t.Fatal(err)
	}
}

// noLock stands in for the fork lock in the negative control.
type noLock struct{}

func (noLock) Lock()   {}
func (noLock) Unlock() {}

func TestWithoutTheForkLockAnExecBetweenPipeAndFcntlInheritsThePipe(t *testing.T) {
	// The negative control of the test below: the window is real, and childHasPipe sees what fell into it.
	stopped := stopInTheWindow(t, func(flags int) (int, int, error) { return pipe2Locked(flags, noLock{}) })
	inherited := childHasPipe(t, stopped.ino)
	stopped.finish(t)
	if !inherited {
		t.Fatal("an exec between pipe and fcntl without the fork lock did not inherit the pipe: the test of the lock cannot fail")
	}
}

func TestAnExecWaitsForAnEmulatedPipe2ToSetItsFlags(t *testing.T) {
	stopped := stopInTheWindow(t, pipe2)
	if !stopped.holdsLock {
		stopped.finish(t)
		t.Fatal("pipe2 does not hold syscall.ForkLock between pipe and fcntl")
	}
	inherited := make(chan bool, 1)
	go func() { inherited <- childHasPipe(t, stopped.ino) }()
	// The exec takes the write side of the lock whose read side pipe2 holds; TryRLock fails once a writer waits.
	for syscall.ForkLock.TryRLock() {
		syscall.ForkLock.RUnlock()
		select {
		case got := <-inherited:
			stopped.finish(t)
			t.Fatalf("an exec ran while pipe2 was between pipe and fcntl (inherited the pipe: %v)", got)
		default:
			runtime.Gosched()
		}
	}
	stopped.finish(t)
	if <-inherited {
		t.Fatal("an exec that waited for the fork lock inherited a pipe meant to be close-on-exec")
	}
}
