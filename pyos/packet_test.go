package pyos_test

import (
	"testing"

	"github.com/pyos-project/pyos/pyos"
)

func TestPacketModeIsAFlagExactlyWhereItExists(t *testing.T) {
	// The table (../tests) checks what Pipe2 does with O_DIRECT, natively and emulated.
	if got, want := pyos.PacketMode != 0, pyos.HavePacketMode; got != want {
		t.Errorf("PacketMode = %#x where HavePacketMode is %v", pyos.PacketMode, pyos.HavePacketMode)
	}
	if pyos.PacketMode&(pyos.O_NONBLOCK|pyos.O_CLOEXEC) != 0 {
		t.Errorf("PacketMode %#x shares bits with O_NONBLOCK or O_CLOEXEC", pyos.PacketMode)
	}
}
