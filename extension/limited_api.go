//go:build pyos_extension

package main

// Every C file of the package, gopy's cgo preambles and pybindgen's module among
// them, starts with limited_api_compat.h, which gives the names of CPython's full
// API that they use when build.py builds for the stable ABI.

// #cgo CFLAGS: -include ${SRCDIR}/limited_api_compat.h
import "C"
