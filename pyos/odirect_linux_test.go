//go:build linux && !pyos_emulate

package pyos_test

import (
	"testing"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

func TestPipe2ODirectKeepsPacketBoundaries(t *testing.T) {
	r, w, err := pyos.Pipe2(pyos.O_DIRECT)
	if err != nil {
		t.Fatal(err)
	}
	defer closePipe(t, r, w)
	for _, packet := range []string{"ab", "cde"} {
		if _, err := unix.Write(w, []byte(packet)); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 64)
	for _, want := range []string{"ab", "cde"} {
		n, err := unix.Read(r, buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:n]); got != want {
			t.Errorf("read %q, want the packet %q", got, want)
		}
	}
}

var osSpecificFlags = []int{pyos.O_DIRECT}

// checkOSSpecificFlags checks O_DIRECT, which Linux keeps on the write end only
// (fs/pipe.c, create_pipe_files): packet mode is a property of the writes, tested
// in TestPipe2ODirectKeepsPacketBoundaries.
func checkOSSpecificFlags(t *testing.T, end string, fl, flags int) {
	t.Helper()
	if end != "write" {
		return
	}
	if got, want := fl&pyos.O_DIRECT != 0, flags&pyos.O_DIRECT != 0; got != want {
		t.Errorf("%s end: O_DIRECT set = %v, want %v", end, got, want)
	}
}

// The flags Linux's pipe2 accepts; O_NOTIFICATION_PIPE (= O_EXCL) depends on the kernel's configuration.
const (
	modelAccepted        = pyos.O_NONBLOCK | pyos.O_CLOEXEC | pyos.O_DIRECT
	modelKernelDependent = unix.O_EXCL
)

// modelKernelDependentErrno is what a kernel without watch queues says to O_NOTIFICATION_PIPE.
var modelKernelDependentErrno error = unix.ENOPKG
