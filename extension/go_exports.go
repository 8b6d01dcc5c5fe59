//go:build pyos_extension

package main

// #include "pyos_module.h"
import "C"

import (
	"runtime"

	"github.com/pyos-project/pyos/binding"
	"github.com/pyos-project/pyos/pyos"
)

// The Go functions pyos_module.c calls, which decides about the GIL itself, as
// CPython's posixmodule does. They live in the extension's own package, where
// gopy writes no Python wrapper: no Python call reaches the fork lock. Each locks
// the calling thread for the reason ../binding's package comment gives.

//export pyos_go_pipe2
func pyos_go_pipe2(flags C.int, r, w *C.int) C.int {
	rfd, wfd, errno := binding.Pipe2(int(flags))
	*r, *w = C.int(rfd), C.int(wfd)
	return C.int(errno)
}

//export pyos_go_lock_for_fork
func pyos_go_lock_for_fork() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pyos.LockForFork()
}

//export pyos_go_unlock_after_fork
func pyos_go_unlock_after_fork() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pyos.UnlockAfterFork()
}

// pyos_go_pipe2_config tells the C, once at module init, what pyos.Pipe2 is in this build.
//
//export pyos_go_pipe2_config
func pyos_go_pipe2_config(native, emulatedFlags, packetMode *C.int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	*native, *emulatedFlags, *packetMode = 0, C.int(pyos.EmulatedFlags), -1
	if pyos.HaveNativePipe2 {
		*native = 1
	}
	if pyos.HavePacketMode {
		*packetMode = C.int(pyos.PacketMode)
	}
}
