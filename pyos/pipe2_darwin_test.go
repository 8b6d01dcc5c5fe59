package pyos_test

import (
	"testing"

	"github.com/pyos-project/pyos/pyos"
)

// macOS 27 adds pipe2(2), but golang.org/x/sys/unix has no Pipe2 for darwin, and a
// build that calls it must still run on the older macOS it targets: Pipe2 is the
// emulation on every macOS, and the extension's forked child does as Go does.
func TestPipe2IsTheEmulationOnEveryMacOS(t *testing.T) {
	if pyos.HaveNativePipe2 {
		t.Fatal("HaveNativePipe2 is true on darwin")
	}
	if pyos.HavePacketMode {
		t.Fatal("HavePacketMode is true on darwin")
	}
}
