//go:build linux

// Package tests holds the cross-language conformance table, conformance.json,
// and what the Go tests share to use it; python_tests/ reads the same file.
package tests

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

//go:embed conformance.json
var table []byte

// EndState is what a case expects of both ends of the pipe it makes.
type EndState struct {
	Nonblock bool `json:"nonblock"`
	Cloexec  bool `json:"cloexec"`
	Packet   bool `json:"packet"`
}

// Outcome is a case's expectation: a pipe, an errno, or (in Python) an exception.
type Outcome struct {
	OK        *EndState `json:"ok"`
	Errno     string    `json:"errno"`
	Exception string    `json:"exception"`
}

// Case is one row of the table. PythonValue and ExpectPython are Python's alone.
type Case struct {
	Name           string          `json:"name"`
	Flags          json.RawMessage `json:"flags"`
	PythonValue    json.RawMessage `json:"python_value"`
	Expect         *Outcome        `json:"expect"`
	ExpectPython   *Outcome        `json:"expect_python"`
	ExpectEmulated *Outcome        `json:"expect_emulated"`
}

var flagsByName = map[string]int{
	"O_NONBLOCK": unix.O_NONBLOCK,
	"O_CLOEXEC":  unix.O_CLOEXEC,
	"O_DIRECT":   unix.O_DIRECT,
	"O_WRONLY":   unix.O_WRONLY,
	"O_RDWR":     unix.O_RDWR,
	"O_APPEND":   unix.O_APPEND,
}

// Errnos are the errno names the table uses.
var Errnos = map[string]unix.Errno{"EINVAL": unix.EINVAL, "EMFILE": unix.EMFILE}

// Cases returns the table's rows.
func Cases() ([]Case, error) {
	return parseCases(table)
}

// parseCases returns the rows of a table in conformance.json's format; a key the format does not
// have is an error, so that a misspelt expectation does not fall back to another.
func parseCases(data []byte) ([]Case, error) {
	var t struct {
		About string `json:"about"`
		Cases []Case `json:"cases"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("conformance.json: %w", err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return nil, fmt.Errorf("conformance.json: data after the table")
	}
	return t.Cases, nil
}

// GoFlags returns the case's flags as a Go int; ok is false where the case does
// not apply to Go (a Python-only value, or a number beyond Go's int).
func (c Case) GoFlags() (flags int, ok bool, err error) {
	if len(c.Flags) == 0 {
		return 0, false, nil
	}
	var names []string
	if json.Unmarshal(c.Flags, &names) == nil {
		for _, name := range names {
			value, known := flagsByName[name]
			if !known {
				return 0, false, fmt.Errorf("case %q: unknown flag name %q", c.Name, name)
			}
			flags |= value
		}
		return flags, true, nil
	}
	var number int64
	if json.Unmarshal(c.Flags, &number) != nil {
		return 0, false, nil
	}
	return int(number), true, nil
}

// Want returns what Go's Pipe2 must do with the case: Expect, or ExpectEmulated
// where Pipe2 is emulated and the case says otherwise there.
func (c Case) Want(nativePipe2 bool) *Outcome {
	if !nativePipe2 && c.ExpectEmulated != nil {
		return c.ExpectEmulated
	}
	return c.Expect
}

// GoCases returns the cases that apply to Go, with their flags and what Pipe2 must do.
func GoCases(nativePipe2 bool) (flags []int, cases []Case, err error) {
	all, err := Cases()
	if err != nil {
		return nil, nil, err
	}
	for _, c := range all {
		f, ok, err := c.GoFlags()
		if err != nil {
			return nil, nil, err
		}
		if ok && c.Want(nativePipe2) != nil {
			flags = append(flags, f)
			cases = append(cases, c)
		}
	}
	return flags, cases, nil
}

// OpenFDs counts the descriptors open in this process.
func OpenFDs() (int, error) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	return len(entries) - 1, nil // the listing's own fd
}
