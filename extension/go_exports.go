//go:build pyos_extension

package main

// #include "pyos_module.h"
import "C"

import (
	"os/signal"
	"runtime"
	"runtime/metrics"
	"syscall"

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

// pyos_go_threads returns the number of OS threads Go's runtime owns.
//
//export pyos_go_threads
func pyos_go_threads() C.long {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sample := []metrics.Sample{{Name: "/sched/threads/total:threads"}}
	metrics.Read(sample)
	return C.long(sample[0].Value.Uint64())
}

// pyos_go_config tells the C, once at module init, what pyos.Pipe2 is in this build, the
// flags' values and the release; the C frees version.
//
//export pyos_go_config
func pyos_go_config(cfg *C.struct_pyos_go_config) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cfg.native_pipe2, cfg.emulated_flags, cfg.packet_mode = 0, C.int(pyos.EmulatedFlags), -1
	if pyos.HaveNativePipe2 {
		cfg.native_pipe2 = 1
	}
	if pyos.HavePacketMode {
		cfg.packet_mode = C.int(pyos.PacketMode)
	}
	cfg.o_nonblock, cfg.o_cloexec = C.int(binding.ONonblock()), C.int(binding.OCloexec())
	cfg.version = C.CString(binding.Version())
}

// pyos_go_ignore_signal ignores sig through os/signal, which tells Go's runtime: a signal the
// process ignored before Go's runtime started is ignored again.
//
//export pyos_go_ignore_signal
func pyos_go_ignore_signal(sig C.int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	signal.Ignore(syscall.Signal(sig))
}
