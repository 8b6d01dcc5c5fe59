//go:build linux

package tests

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

// checkEnds checks both ends of a pipe against the state a case expects, and that a
// write to the write end is read back from the read end, in packets where expected.
func checkEnds(t *testing.T, r, w int, want EndState) {
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
		if mode, access := fl&unix.O_ACCMODE, map[string]int{"read": unix.O_RDONLY, "write": unix.O_WRONLY}[end]; mode != access {
			t.Errorf("%s end: access mode %#x, want %#x", end, mode, access)
		}
	}
	unix.Write(w, []byte("ab"))
	unix.Write(w, []byte("cde"))
	buf := make([]byte, 16)
	n, _ := unix.Read(r, buf)
	if got, first := string(buf[:n]), map[bool]string{true: "ab", false: "abcde"}[want.Packet]; got != first {
		t.Errorf("first read %q, want %q (packet mode %v)", got, first, want.Packet)
	}
}

// checkError checks a failed Pipe2: the errno, no fds, and an error that names the system call.
func checkError(t *testing.T, flags, r, w int, err error, errnoName string) {
	t.Helper()
	errno, known := Errnos[errnoName]
	if !known {
		t.Fatalf("unknown errno name %q", errnoName)
	}
	if !errors.Is(err, errno) || r != -1 || w != -1 {
		t.Fatalf("Pipe2(%#x) = %d, %d, %v; want -1, -1, %s", flags, r, w, err, errnoName)
	}
	var sysErr *os.SyscallError
	if flags == int(int32(flags)) && (!errors.As(err, &sysErr) || !strings.HasPrefix(sysErr.Syscall, "pipe")) {
		t.Errorf("Pipe2(%#x) error %q does not name the system call", flags, err)
	}
}

func TestConformanceTable(t *testing.T) {
	flags, cases, err := GoCases(pyos.HaveNativePipe2)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		t.Run(strings.ReplaceAll(c.Name, " ", "_"), func(t *testing.T) {
			want := c.Want(pyos.HaveNativePipe2)
			before, err := OpenFDs()
			if err != nil {
				t.Fatal(err)
			}
			r, w, err := pyos.Pipe2(flags[i])
			switch {
			case want.OK != nil:
				if err != nil {
					t.Fatalf("Pipe2(%#x): %v, want a pipe", flags[i], err)
				}
				checkEnds(t, r, w, *want.OK)
				unix.Close(r)
				unix.Close(w)
			case want.Errno != "":
				checkError(t, flags[i], r, w, err, want.Errno)
			default:
				t.Fatalf("case %q expects neither a pipe nor an errno of Go", c.Name)
			}
			if after, _ := OpenFDs(); after != before {
				t.Errorf("%d fds open before, %d after", before, after)
			}
		})
	}
}
