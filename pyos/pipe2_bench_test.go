package pyos_test

import (
	"testing"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

func BenchmarkPipe2(b *testing.B) {
	for _, bc := range []struct {
		name  string
		flags int
	}{{"0", 0}, {"CLOEXEC|NONBLOCK", pyos.O_CLOEXEC | pyos.O_NONBLOCK}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				r, w, err := pyos.Pipe2(bc.flags)
				if err != nil {
					b.Fatal(err)
				}
				unix.Close(r)
				unix.Close(w)
			}
		})
	}
}

func BenchmarkPipe2Invalid(b *testing.B) {
	for b.Loop() {
		if _, _, err := pyos.Pipe2(-1); err == nil {
			b.Fatal("Pipe2(-1) succeeded")
		}
	}
}
