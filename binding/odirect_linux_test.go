//go:build linux && !pyos_emulate

package binding

import (
	"testing"

	"github.com/pyos-project/pyos/pyos"
)

func TestODirectIsTheGoPackageValue(t *testing.T) {
	if ODirect() != pyos.O_DIRECT {
		t.Errorf("ODirect() = %#x, want %#x", ODirect(), pyos.O_DIRECT)
	}
}
