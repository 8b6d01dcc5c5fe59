package pyos_test

import (
	"errors"
	"math"
	"testing"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

// FuzzPipe2 checks Pipe2's flag handling against a model of pipe2(2): flags
// outside the C int range fail before the syscall; bits outside modelAccepted
// fail with EINVAL; bits in modelKernelDependent (Linux's O_NOTIFICATION_PIPE)
// may fail with ENOPKG, as kernels without watch queues say; every other value
// gives two ends that carry exactly the requested flags. No failure leaves an fd.
func FuzzPipe2(f *testing.F) {
	for _, seed := range []int{0, pyos.O_NONBLOCK, pyos.O_CLOEXEC, pyos.O_NONBLOCK | pyos.O_CLOEXEC, -1, unix.O_RDWR,
		unix.O_EXCL, 1 << 30, math.MaxInt32, math.MinInt32, math.MaxInt32 + 1, 1<<32 | pyos.O_NONBLOCK, math.MinInt64} {
		f.Add(seed)
	}
	for _, flag := range osSpecificFlags {
		f.Add(flag)
	}
	f.Fuzz(func(t *testing.T, flags int) {
		before := openFDs(t)
		r, w, err := pyos.Pipe2(flags)
		defer func() {
			if after := openFDs(t); err != nil && after != before {
				t.Errorf("Pipe2(%#x) failed with %v but left %d fds", flags, err, after-before)
			}
		}()
		switch {
		case flags < math.MinInt32 || flags > math.MaxInt32, flags&^(modelAccepted|modelKernelDependent) != 0:
			if !errors.Is(err, unix.EINVAL) || r != -1 || w != -1 {
				t.Fatalf("Pipe2(%#x) = %d, %d, %v; want -1, -1, EINVAL", flags, r, w, err)
			}
			return
		case flags&modelKernelDependent != 0 && errors.Is(err, modelKernelDependentErrno):
			return
		case err != nil:
			t.Fatalf("Pipe2(%#x): %v, want a pipe", flags, err)
		}
		defer closePipe(t, r, w)
		for _, fd := range []int{r, w} {
			fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
			fdfl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			if (fl&pyos.O_NONBLOCK != 0) != (flags&pyos.O_NONBLOCK != 0) || (fdfl&unix.FD_CLOEXEC != 0) != (flags&pyos.O_CLOEXEC != 0) {
				t.Errorf("Pipe2(%#x): fd %d has F_GETFL %#x, F_GETFD %#x", flags, fd, fl, fdfl)
			}
		}
		checkOSSpecificFlags(t, "write", mustGetfl(t, w), flags)
	})
}

func mustGetfl(t *testing.T, fd int) int {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fl
}
