//go:build linux

package pyos_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/pyos-project/pyos/pyos"
	"github.com/pyos-project/pyos/tests"
	"golang.org/x/sys/unix"
)

// emfileChildEnv tells the re-executed test binary to run the EMFILE check in place of the tests.
const emfileChildEnv = "PYOS_TEST_EMFILE_CHILD"

func init() {
	childModes[emfileChildEnv] = emfileChild
}

// openFDs counts the descriptors open in this process.
func openFDs(t testing.TB) int {
	t.Helper()
	n, err := tests.OpenFDs()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPipeIsCloseOnExecAndBlocking(t *testing.T) {
	r, w, err := pyos.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer closePipe(t, r, w)
	for _, fd := range []int{r, w} {
		fdfl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if fdfl&unix.FD_CLOEXEC == 0 || fl&unix.O_NONBLOCK != 0 {
			t.Errorf("fd %d: F_GETFD %#x, F_GETFL %#x; want FD_CLOEXEC and blocking", fd, fdfl, fl)
		}
	}
}

func TestPipe2ReportsEMFILEWithoutLeaking(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), emfileChildEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("EMFILE check in a child process with a lowered RLIMIT_NOFILE: %v\n%s", err, out)
	}
}

// emfileChild lowers RLIMIT_NOFILE in this process, then checks that Pipe2
// fails with EMFILE both when no fd is free and when only one is, without
// leaving a half-made pipe behind.
func emfileChild() error {
	open, err := tests.OpenFDs()
	if err != nil {
		return err
	}
	limit := unix.Rlimit{Cur: uint64(open + 7), Max: uint64(open + 7)}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &limit); err != nil {
		return fmt.Errorf("setrlimit: %w", err)
	}
	var held []int
	defer func() {
		for _, fd := range held {
			unix.Close(fd)
		}
	}()
	for {
		r, w, err := pyos.Pipe2(pyos.O_CLOEXEC)
		if errors.Is(err, unix.EMFILE) {
			break
		}
		if err != nil {
			return fmt.Errorf("filling the fd table: %w", err)
		}
		held = append(held, r, w)
	}
	// Pipes fill the table two at a time and may leave one slot, so fill it up with single fds.
	for {
		fd, err := unix.Dup(held[0])
		if errors.Is(err, unix.EMFILE) {
			break
		}
		if err != nil {
			return fmt.Errorf("dup while filling the fd table: %w", err)
		}
		held = append(held, fd)
	}
	if r, w, err := pyos.Pipe2(pyos.O_CLOEXEC); !errors.Is(err, unix.EMFILE) || r != -1 || w != -1 {
		return fmt.Errorf("with no free slot: Pipe2 = %d, %d, %v; want -1, -1, EMFILE", r, w, err)
	}

	// Free exactly one slot: a pipe needs two, so pipe2 must fail and keep nothing.
	unix.Close(held[len(held)-1])
	held = held[:len(held)-1]
	before, err := tests.OpenFDs()
	if err != nil {
		return err
	}
	if r, w, err := pyos.Pipe2(pyos.O_CLOEXEC); !errors.Is(err, unix.EMFILE) || r != -1 || w != -1 {
		return fmt.Errorf("with one free slot: Pipe2 = %d, %d, %v; want -1, -1, EMFILE", r, w, err)
	}
	after, err := tests.OpenFDs()
	if err != nil {
		return err
	}
	if after != before {
		return fmt.Errorf("with one free slot: %d fds before the failed Pipe2, %d after", before, after)
	}
	return nil
}

func TestPipe2EINVALMakesNoGarbage(t *testing.T) {
	if allocs := testing.AllocsPerRun(1000, func() { pyos.Pipe2(-1) }); allocs != 0 {
		t.Errorf("Pipe2(-1) allocates %v times per call", allocs)
	}
}
