//go:build unix && (!linux || pyos_emulate)

package binding

// ODirect returns the value of O_DIRECT, or -1 where Pipe2 has no packet mode.
func ODirect() int {
	defer lockCallerThread()()
	return -1
}
