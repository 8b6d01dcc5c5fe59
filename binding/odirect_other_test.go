//go:build unix && (!linux || pyos_emulate)

package binding

import "testing"

func TestODirectIsAbsent(t *testing.T) {
	if ODirect() != -1 {
		t.Errorf("ODirect() = %#x, want -1 where Pipe2 has no packet mode", ODirect())
	}
}
