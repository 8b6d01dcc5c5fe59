//go:build linux

package pyos_test

import (
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pyos-project/pyos/pyos"
)

func TestExecInheritsOnlyEndsWithoutCloexec(t *testing.T) {
	keptR, keptW, err := pyos.Pipe2(0)
	if err != nil {
		t.Fatal(err)
	}
	defer closePipe(t, keptR, keptW)
	closedR, closedW, err := pyos.Pipe2(pyos.O_CLOEXEC | pyos.O_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer closePipe(t, closedR, closedW)
	out, err := exec.Command("ls", "/proc/self/fd").Output()
	if err != nil {
		t.Fatal(err)
	}
	inChild := strings.Fields(string(out))
	for fd, want := range map[int]bool{keptR: true, keptW: true, closedR: false, closedW: false} {
		if got := slices.Contains(inChild, strconv.Itoa(fd)); got != want {
			t.Errorf("fd %d in the exec'd child: %v, want %v (child has %v)", fd, got, want, inChild)
		}
	}
}
