//go:build pyos_extension

package main

// The package that gopy generates imports gopyh, gopy's handle table; importing it
// here too tells go mod tidy and go mod vendor, which cannot see generated code.
import _ "github.com/go-python/gopy/gopyh"
