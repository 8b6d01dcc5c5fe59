//go:build linux

// Package tests runs the cross-language conformance table, conformance.json,
// against the Go API; python_tests/test_conformance.py runs it against Python.
package tests

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

type endState struct {
	Nonblock bool `json:"nonblock"`
	Cloexec  bool `json:"cloexec"`
	Packet   bool `json:"packet"`
}

type outcome struct {
	OK        *endState `json:"ok"`
	Errno     string    `json:"errno"`
	Exception string    `json:"exception"`
}

type conformanceCase struct {
	Name           string          `json:"name"`
	Flags          json.RawMessage `json:"flags"`
	Expect         *outcome        `json:"expect"`
	ExpectEmulated *outcome        `json:"expect_emulated"`
}

var flagsByName = map[string]int{
	"O_NONBLOCK": unix.O_NONBLOCK,
	"O_CLOEXEC":  unix.O_CLOEXEC,
	"O_DIRECT":   unix.O_DIRECT,
	"O_WRONLY":   unix.O_WRONLY,
	"O_RDWR":     unix.O_RDWR,
	"O_APPEND":   unix.O_APPEND,
}

var errnoByName = map[string]unix.Errno{"EINVAL": unix.EINVAL, "EMFILE": unix.EMFILE}

// goFlags resolves a case's flags for Go; ok is false where the case does not
// apply to Go (a Python-only value, or a number beyond Go's int).
func goFlags(t *testing.T, raw json.RawMessage) (flags int, ok bool) {
	if len(raw) == 0 {
		return 0, false
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err == nil {
		for _, name := range names {
			value, known := flagsByName[name]
			if !known {
				t.Fatalf("unknown flag name %q", name)
			}
			flags |= value
		}
		return flags, true
	}
	var number int64
	if err := json.Unmarshal(raw, &number); err != nil {
		return 0, false
	}
	return int(number), true
}

func loadCases(t *testing.T) []conformanceCase {
	data, err := os.ReadFile("conformance.json")
	if err != nil {
		t.Fatal(err)
	}
	var table struct{ Cases []conformanceCase }
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatal(err)
	}
	return table.Cases
}

func openFDCount(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func checkEnds(t *testing.T, r, w int, want endState) {
	t.Helper()
	for end, fd := range map[string]int{"read": r, "write": w} {
		fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		fdfl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if got := fl&unix.O_NONBLOCK != 0; got != want.Nonblock {
			t.Errorf("%s end: nonblock %v, want %v", end, got, want.Nonblock)
		}
		if got := fdfl&unix.FD_CLOEXEC != 0; got != want.Cloexec {
			t.Errorf("%s end: cloexec %v, want %v", end, got, want.Cloexec)
		}
	}
	unix.Write(w, []byte("ab"))
	unix.Write(w, []byte("cde"))
	buf := make([]byte, 16)
	n, _ := unix.Read(r, buf)
	if got, want := string(buf[:n]), map[bool]string{true: "ab", false: "abcde"}[want.Packet]; got != want {
		t.Errorf("first read %q, want %q (packet mode %v)", got, want, got == "ab")
	}
}

func TestConformanceTable(t *testing.T) {
	applicable := 0
	for _, c := range loadCases(t) {
		flags, ok := goFlags(t, c.Flags)
		want := c.Expect
		if !pyos.HaveNativePipe2 && c.ExpectEmulated != nil {
			want = c.ExpectEmulated
		}
		if !ok || want == nil {
			continue
		}
		applicable++
		t.Run(strings.ReplaceAll(c.Name, " ", "_"), func(t *testing.T) {
			before := openFDCount(t)
			r, w, err := pyos.Pipe2(flags)
			switch {
			case want.OK != nil:
				if err != nil {
					t.Fatalf("Pipe2(%#x): %v, want a pipe", flags, err)
				}
				checkEnds(t, r, w, *want.OK)
				unix.Close(r)
				unix.Close(w)
			case want.Errno != "":
				errno, known := errnoByName[want.Errno]
				if !known {
					t.Fatalf("unknown errno name %q", want.Errno)
				}
				if !errors.Is(err, errno) || r != -1 || w != -1 {
					t.Errorf("Pipe2(%#x) = %d, %d, %v; want -1, -1, %s", flags, r, w, err, want.Errno)
				}
			default:
				t.Fatalf("case %q expects neither ok nor an errno for Go", c.Name)
			}
			if after := openFDCount(t); after != before {
				t.Errorf("%d fds open before, %d after", before, after)
			}
		})
	}
	if applicable < 15 {
		t.Errorf("only %d cases apply to Go", applicable)
	}
}
