//go:build linux

package binding

import (
	"fmt"
	"testing"

	"github.com/pyos-project/pyos/pyos"
	"github.com/pyos-project/pyos/tests"
	"golang.org/x/sys/unix"
)

func TestPipe2ReturnsAWorkingPipe(t *testing.T) {
	r, w, errno := Pipe2(pyos.O_NONBLOCK)
	if errno != 0 {
		t.Fatalf("Pipe2(O_NONBLOCK) failed: %v", errno)
	}
	defer unix.Close(r)
	defer unix.Close(w)
	if _, err := unix.Write(w, []byte("x")); err != nil {
		t.Fatalf("write to write end %d: %v", w, err)
	}
	buf := make([]byte, 2)
	if n, err := unix.Read(r, buf); err != nil || string(buf[:n]) != "x" {
		t.Fatalf("read from read end %d = %q, %v", r, buf[:n], err)
	}
}

// failingCFlags returns the table's flags that fit a C int, as the extension's converter passes them, and fail.
func failingCFlags(t *testing.T) (flags []int, errnos []unix.Errno) {
	t.Helper()
	all, cases, err := tests.GoCases(pyos.HaveNativePipe2)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if want := c.Want(pyos.HaveNativePipe2); want.Errno != "" && all[i] == int(int32(all[i])) {
			flags = append(flags, all[i])
			errnos = append(errnos, tests.Errnos[want.Errno])
		}
	}
	if len(flags) == 0 {
		t.Fatal("the table has no failing flags that fit a C int")
	}
	return flags, errnos
}

func TestPipe2ReturnsTheErrno(t *testing.T) {
	flags, errnos := failingCFlags(t)
	for i, f := range flags {
		if r, w, errno := Pipe2(f); errno != errnos[i] || r != -1 || w != -1 {
			t.Errorf("Pipe2(%#x) = %d, %d, %v; want -1, -1, %v", f, r, w, errno, errnos[i])
		}
	}
}

func TestErrnoOfFallsBackToEINVAL(t *testing.T) {
	cases := map[error]unix.Errno{
		fmt.Errorf("wrapped: %w", unix.EMFILE): unix.EMFILE,
		fmt.Errorf("no errno inside"):          unix.EINVAL,
	}
	for err, want := range cases {
		if got := errnoOf(err); got != want {
			t.Errorf("errnoOf(%q) = %v, want %v", err, got, want)
		}
	}
}

func TestFailedCallsMakeNoGarbage(t *testing.T) {
	// Python code can fail pipe2 in a loop; garbage made in Go from cgo callbacks
	// only goes away when Go's collector gets round to it.
	failing, _ := failingCFlags(t)
	for _, flags := range failing {
		if allocs := testing.AllocsPerRun(1000, func() { Pipe2(flags) }); allocs != 0 {
			t.Errorf("Pipe2(%#x) allocates %v times per call", flags, allocs)
		}
	}
}
