//go:build pyos_floor

// Go's floor for make bench: a c-shared library with one exported Go function that
// does nothing, built as build.py builds pyos's extension (the same Go, flags and
// //go:debug lines, extension/godebug.go, copied in by bench/floor.py) and loaded by
// CPython as an extension module, _gofloor, as pyos's is. What this library costs a
// process or a call is what any Go extension costs; pyos's share is the rest.
// Go's own tools leave this directory alone: its files need the pyos_floor tag.

package main

import "C"

// pyos_floor_noop is the no-op call from C into Go, the path of each of pyos's calls.
//
//export pyos_floor_noop
func pyos_floor_noop() {}

func main() {}
