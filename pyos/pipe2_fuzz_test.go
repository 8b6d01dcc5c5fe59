//go:build linux

package pyos_test

import (
	"errors"
	"math"
	"testing"

	"github.com/pyos-project/pyos/pyos"
	"github.com/pyos-project/pyos/tests"
	"golang.org/x/sys/unix"
)

// FuzzPipe2 checks Pipe2's flag handling against a model of Linux's pipe2(2), or
// of the emulation: flags outside the C int range fail before the system call;
// bits outside the accepted ones fail with EINVAL; O_NOTIFICATION_PIPE (=
// O_EXCL), which depends on the kernel's configuration, may fail with ENOPKG
// where pipe2 is native; every other value gives two ends that carry exactly the
// requested flags. No failure leaves an fd. The seeds are the table's flags.
func FuzzPipe2(f *testing.F) {
	seeds, _, err := tests.GoCases(pyos.HaveNativePipe2)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range seeds {
		f.Add(seed)
	}
	accepted := pyos.O_NONBLOCK | pyos.O_CLOEXEC | pyos.PacketMode
	kernelDependent := 0
	if pyos.HaveNativePipe2 {
		kernelDependent = unix.O_EXCL
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
		case flags < math.MinInt32 || flags > math.MaxInt32, flags&^(accepted|kernelDependent) != 0:
			if !errors.Is(err, unix.EINVAL) || r != -1 || w != -1 {
				t.Fatalf("Pipe2(%#x) = %d, %d, %v; want -1, -1, EINVAL", flags, r, w, err)
			}
			return
		case flags&kernelDependent != 0 && errors.Is(err, unix.ENOPKG):
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
		// Linux keeps O_DIRECT on the write end only (fs/pipe.c, create_pipe_files).
		if fl, _ := unix.FcntlInt(uintptr(w), unix.F_GETFL, 0); (fl&pyos.PacketMode != 0) != (flags&pyos.PacketMode != 0) {
			t.Errorf("Pipe2(%#x): write end has F_GETFL %#x", flags, fl)
		}
	})
}
