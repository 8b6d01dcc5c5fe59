//go:build unix

package tests

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The extension ignores SIGPIPE again through os/signal where the process ignored it
// before Go's runtime started (extension/process_state.c). These tests show, in a Go
// program, what Go's runtime then does: a write to a broken pipe, also on fd 1, fails
// with EPIPE; without the ignore, the same write to fd 1 kills the process.

const sigpipeHelperEnv = "PYOS_SIGPIPE_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(sigpipeHelperEnv) {
	case "ignored":
		signal.Ignore(syscall.SIGPIPE)
		os.Exit(writeToBrokenStdout())
	case "default":
		os.Exit(writeToBrokenStdout())
	}
	os.Exit(m.Run())
}

// writeToBrokenStdout makes fd 1 the write end of a pipe without a reader and writes to it
// with Go's os.Stdout: 0 if the write failed with EPIPE, 1 otherwise.
func writeToBrokenStdout() int {
	var fds [2]int
	if err := unix.Pipe2(fds[:], 0); err != nil {
		return 1
	}
	unix.Close(fds[0])
	if err := unix.Dup2(fds[1], 1); err != nil {
		return 1
	}
	if _, err := os.Stdout.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		return 1
	}
	return 0
}

func runSigpipeHelper(t *testing.T, mode string) error {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), sigpipeHelperEnv+"="+mode)
	return cmd.Run()
}

func TestWriteToBrokenStdoutWithSigpipeIgnoredFailsWithEPIPE(t *testing.T) {
	if err := runSigpipeHelper(t, "ignored"); err != nil {
		t.Fatalf("with SIGPIPE ignored through os/signal, a write to a broken fd 1: %v, want EPIPE and exit 0", err)
	}
}

func TestWriteToBrokenStdoutWithGoSigpipeHandlerKillsTheProcess(t *testing.T) {
	// The control: Go's own SIGPIPE handling, what the extension replaces.
	err := runSigpipeHelper(t, "default")
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("a write to a broken fd 1 with Go's SIGPIPE handler: %v, want death by SIGPIPE", err)
	}
	if status, ok := exit.Sys().(syscall.WaitStatus); !ok || !status.Signaled() || status.Signal() != syscall.SIGPIPE {
		t.Fatalf("a write to a broken fd 1 with Go's SIGPIPE handler: %v, want death by SIGPIPE", err)
	}
}
