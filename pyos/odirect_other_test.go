//go:build unix && (!linux || pyos_emulate)

package pyos_test

import (
	"errors"
	"testing"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

var osSpecificFlags []int

func checkOSSpecificFlags(*testing.T, string, int, int) {}

func TestPipe2WithoutPacketModeRejectsODirect(t *testing.T) {
	if pyos.HasODirect {
		t.Fatal("HasODirect is true in a build without O_DIRECT")
	}
	// unix.O_DIRECT where the OS defines it; 0x10000 (an O_DIRECT on some arches) elsewhere: either way not a Pipe2 flag here.
	r, w, err := pyos.Pipe2(oDirectOrJunk)
	if !errors.Is(err, unix.EINVAL) || r != -1 || w != -1 {
		t.Errorf("Pipe2(O_DIRECT) = %d, %d, %v; want -1, -1, EINVAL", r, w, err)
	}
}

// The flags the emulation accepts; none depends on the kernel.
const (
	modelAccepted        = pyos.O_NONBLOCK | pyos.O_CLOEXEC
	modelKernelDependent = 0
)

// modelKernelDependentErrno is unused here: no flag depends on the kernel.
var modelKernelDependentErrno error
