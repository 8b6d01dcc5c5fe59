package binding

import (
	"fmt"
	"math"
	"testing"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

func unpack(t *testing.T, packed int64) (r, w int) {
	t.Helper()
	if packed < 0 {
		t.Fatalf("packed result %d is an errno (%v), want two fds", packed, unix.Errno(-packed))
	}
	return int(packed >> 32), int(packed & math.MaxUint32)
}

func TestPipe2PacksAWorkingPipe(t *testing.T) {
	r, w := unpack(t, Pipe2(pyos.O_NONBLOCK))
	defer unix.Close(r)
	defer unix.Close(w)
	if _, err := unix.Write(w, []byte("x")); err != nil {
		t.Fatalf("write to unpacked write end %d: %v", w, err)
	}
	buf := make([]byte, 2)
	if n, err := unix.Read(r, buf); err != nil || string(buf[:n]) != "x" {
		t.Fatalf("read from unpacked read end %d = %q, %v", r, buf[:n], err)
	}
}

func TestPipe2ReturnsNegativeErrno(t *testing.T) {
	for _, flags := range []int{-1, unix.O_RDWR, math.MinInt32, 1 << 30} {
		if got, want := Pipe2(flags), -int64(unix.EINVAL); got != want {
			t.Errorf("Pipe2(%#x) = %d, want -EINVAL (%d)", flags, got, want)
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

func TestConstantsAreTheGoPackageValues(t *testing.T) {
	if ONonblock() != pyos.O_NONBLOCK || OCloexec() != pyos.O_CLOEXEC {
		t.Errorf("ONonblock, OCloexec = %#x, %#x; want %#x, %#x", ONonblock(), OCloexec(), pyos.O_NONBLOCK, pyos.O_CLOEXEC)
	}
	if EmulatedFlags() != pyos.EmulatedFlags {
		t.Errorf("EmulatedFlags() = %#x, want %#x", EmulatedFlags(), pyos.EmulatedFlags)
	}
	if got, want := HaveNativePipe2() == 1, pyos.HaveNativePipe2; got != want {
		t.Errorf("HaveNativePipe2() = %d, want %v", HaveNativePipe2(), want)
	}
}

func TestFailedCallsMakeNoGarbage(t *testing.T) {
	// Python code can fail pipe2 in a loop; garbage made in Go from cgo callbacks
	// only goes away when Go's collector gets round to it. Flags come from C as a C int.
	for _, flags := range []int{-1, 1 << 30, math.MinInt32} {
		if allocs := testing.AllocsPerRun(1000, func() { Pipe2(flags) }); allocs != 0 {
			t.Errorf("Pipe2(%#x) allocates %v times per call", flags, allocs)
		}
	}
}
