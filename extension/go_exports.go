//go:build pyos_extension

package main

// #include "pyos_module.h"
import "C"

import "github.com/pyos-project/pyos/binding"

// The binding's functions for pyos_module.c, which decides about the GIL itself,
// as CPython's posixmodule does. gopy's exports of the same functions, which its
// wrappers call for Python, release the GIL from Go: two calls from Go back into C
// per call, and a release that os.pipe2 does not make.

//export pyos_go_pipe2
func pyos_go_pipe2(flags C.int) C.longlong {
	return C.longlong(binding.Pipe2(int(flags)))
}

//export pyos_go_before_fork
func pyos_go_before_fork() {
	binding.BeforeFork()
}

//export pyos_go_after_fork_in_parent
func pyos_go_after_fork_in_parent() {
	binding.AfterForkInParent()
}

//export pyos_go_have_native_pipe2
func pyos_go_have_native_pipe2() C.int {
	return C.int(binding.HaveNativePipe2())
}

//export pyos_go_emulated_flags
func pyos_go_emulated_flags() C.int {
	return C.int(binding.EmulatedFlags())
}
