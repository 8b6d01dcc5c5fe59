//go:build linux && pyos_emulate

package pyos

import (
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
)

const (
	racingPipeMakers = 3
	racingExecers    = 2
	execsPerExecer   = 1000
)

// childFDs execs `ls /proc/self/fd` and returns the fds the child has open.
func childFDs(t *testing.T) []string {
	out, err := exec.Command("ls", "/proc/self/fd").Output()
	if err != nil {
		t.Error(err)
	}
	return strings.Fields(string(out))
}

// raceEmulatedPipesAgainstExec creates O_CLOEXEC pipes with pipe2Locked(forkLock)
// in several goroutines while others exec `ls /proc/self/fd`, and returns the fds
// the children saw beyond those a child sees with no pipes being made (ls's own,
// and whatever non-close-on-exec fds the test process was started with).
func raceEmulatedPipesAgainstExec(t *testing.T, forkLock sync.Locker) (leaked []string) {
	t.Helper()
	baseline := map[string]bool{}
	for _, fd := range childFDs(t) {
		baseline[fd] = true
	}
	stop := make(chan struct{})
	var makers sync.WaitGroup
	for range racingPipeMakers {
		makers.Add(1)
		go func() {
			defer makers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, w, err := pipe2Locked(O_CLOEXEC, forkLock)
				if err != nil {
					t.Error(err)
					return
				}
				syscall.Close(r)
				syscall.Close(w)
			}
		}()
	}
	var mu sync.Mutex
	var execers sync.WaitGroup
	for range racingExecers {
		execers.Add(1)
		go func() {
			defer execers.Done()
			for range execsPerExecer {
				for _, fd := range childFDs(t) {
					if !baseline[fd] {
						mu.Lock()
						leaked = append(leaked, fd)
						mu.Unlock()
					}
				}
			}
		}()
	}
	execers.Wait()
	close(stop)
	makers.Wait()
	return leaked
}

func TestEmulatedCloexecPipesNeverReachAnExecdChild(t *testing.T) {
	if leaked := raceEmulatedPipesAgainstExec(t, syscall.ForkLock.RLocker()); len(leaked) != 0 {
		t.Errorf("%d execs: children inherited fds %v meant to be close-on-exec", racingExecers*execsPerExecer, leaked)
	}
}

// noLock stands in for the fork lock in the negative control.
type noLock struct{}

func (noLock) Lock()   {}
func (noLock) Unlock() {}

func TestWithoutTheForkLockEmulatedPipesLeak(t *testing.T) {
	// The negative control: without the lock, a fork between pipe and FD_CLOEXEC leaks.
	leaked := raceEmulatedPipesAgainstExec(t, noLock{})
	if len(leaked) == 0 {
		t.Fatalf("%d execs without the fork lock leaked nothing: the race test cannot tell the lock matters", racingExecers*execsPerExecer)
	}
	t.Logf("%d execs without the fork lock: %d fds leaked into children", racingExecers*execsPerExecer, len(leaked))
}
