package pyos_test

import (
	"errors"
	"fmt"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

func ExamplePipe2() {
	r, w, err := pyos.Pipe2(pyos.O_NONBLOCK | pyos.O_CLOEXEC)
	if err != nil {
		panic(err)
	}
	defer unix.Close(r)
	defer unix.Close(w)

	buf := make([]byte, 16)
	if _, err := unix.Read(r, buf); errors.Is(err, unix.EAGAIN) {
		fmt.Println("empty pipe: read would block")
	}
	unix.Write(w, []byte("hello"))
	n, _ := unix.Read(r, buf)
	fmt.Println(string(buf[:n]))
	// Output:
	// empty pipe: read would block
	// hello
}

func ExamplePipe() {
	r, w, err := pyos.Pipe()
	if err != nil {
		panic(err)
	}
	defer unix.Close(r)
	defer unix.Close(w)
	flags, _ := unix.FcntlInt(uintptr(r), unix.F_GETFD, 0)
	fmt.Println("close-on-exec:", flags&unix.FD_CLOEXEC != 0)
	// Output: close-on-exec: true
}
