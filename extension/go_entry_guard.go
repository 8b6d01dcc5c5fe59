//go:build pyos_extension

// This file joins the cgo package gopy generates from ../binding (build.py builds
// it with the pyos_extension tag); Go's own tools leave the directory alone.

package main

// #include "pyos_module.h"
import "C"

import (
	"runtime"
	"unsafe"
)

// init makes pyos_go_entry_guard the cgo context function, which Go's runtime
// calls at every call from C into Go, before any Go code runs.
func init() {
	runtime.SetCgoTraceback(0, nil, unsafe.Pointer(C.pyos_go_entry_guard), nil)
}
