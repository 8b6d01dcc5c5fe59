//go:build linux && !pyos_emulate

package binding

import "github.com/pyos-project/pyos/pyos"

// ODirect returns the value of O_DIRECT, or -1 where Pipe2 has no packet mode.
func ODirect() int {
	defer lockCallerThread()()
	return pyos.O_DIRECT
}
