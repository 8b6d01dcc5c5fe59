// Command pipewriter is the Go parent of the cross-language test: it makes a pipe
// with pyos.Pipe2, starts a Python child with the read end as fd 3 (os/exec
// ExtraFiles), writes N deterministic bytes, closes the write end, and prints
// the child's JSON report followed by the SHA-256 of what it wrote.
//
//	pipewriter PYTHON N
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

// childScript reads fd 3 to EOF and reports what it read and which fds it had at start.
const childScript = `
import hashlib, json, os
fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
data = b""
with os.fdopen(3, "rb") as f:
    while chunk := f.read(65536):
        data += chunk
print(json.dumps({"fds_at_start": fds, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "eof": True}))
`

func run() error {
	if len(os.Args) != 3 {
		return fmt.Errorf("usage: pipewriter PYTHON N")
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		return err
	}
	r, w, err := pyos.Pipe2(pyos.O_CLOEXEC)
	if err != nil {
		return err
	}
	readEnd := os.NewFile(uintptr(r), "pipe-r")
	child := exec.Command(os.Args[1], "-I", "-c", childScript)
	child.ExtraFiles = []*os.File{readEnd}
	child.Stdout = os.Stdout
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		return err
	}
	readEnd.Close()

	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	for rest := data; len(rest) > 0; {
		written, err := unix.Write(w, rest)
		if err != nil {
			return err
		}
		rest = rest[written:]
	}
	unix.Close(w)
	if err := child.Wait(); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	fmt.Println(hex.EncodeToString(sum[:]))
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pipewriter:", err)
		os.Exit(1)
	}
}
