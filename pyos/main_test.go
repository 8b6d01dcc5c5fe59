package pyos_test

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// childModes are the jobs a test re-executes the test binary for, by environment variable.
var childModes = map[string]func() error{}

func TestMain(m *testing.M) {
	for env, job := range childModes {
		if os.Getenv(env) != "" {
			if err := job(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}

func closePipe(t testing.TB, r, w int) {
	t.Helper()
	if err := unix.Close(r); err != nil {
		t.Errorf("close read end %d: %v", r, err)
	}
	if err := unix.Close(w); err != nil {
		t.Errorf("close write end %d: %v", w, err)
	}
}
