// Command pipereader is the Go end of the cross-language test: it reads the pipe
// end a Python parent passed it as fd N until EOF and reports, as JSON, what it
// read and which fds it had open when it started.
//
//	pipereader N
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

type report struct {
	FDsAtStart map[string]string `json:"fds_at_start"` // fd -> what it refers to
	Bytes      int               `json:"bytes"`
	SHA256     string            `json:"sha256"`
	EOF        bool              `json:"eof"`
}

// openFDs lists the open fds with raw system calls: os.ReadDir would first open
// Go's poller (an epoll fd and an eventfd) and show those too. The listing's own
// fd is in the list.
func openFDs() (map[string]string, error) {
	dir, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dir)
	fds := map[string]string{}
	buf := make([]byte, 8192)
	for {
		n, err := unix.ReadDirent(dir, buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			fds[name], _ = os.Readlink("/proc/self/fd/" + name)
		}
	}
	return fds, nil
}

// readToEOF reads fd, which may be non-blocking, waiting with poll whenever it is empty.
func readToEOF(fd int) ([]byte, error) {
	var data []byte
	buf := make([]byte, 64*1024)
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			if _, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1); err != nil && !errors.Is(err, unix.EINTR) {
				return data, err
			}
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return data, err
		case n == 0:
			return data, nil
		default:
			data = append(data, buf[:n]...)
		}
	}
}

func run() error {
	fds, err := openFDs() // before anything of Go's own opens an fd
	if err != nil {
		return err
	}
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: pipereader FD")
	}
	fd, err := strconv.Atoi(os.Args[1])
	if err != nil {
		return err
	}
	// The reader's own pipe, from the same Go package, only to show it works here too.
	r, w, err := pyos.Pipe2(pyos.O_CLOEXEC)
	if err != nil {
		return err
	}
	unix.Close(r)
	unix.Close(w)
	data, err := readToEOF(fd)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	return json.NewEncoder(os.Stdout).Encode(report{FDsAtStart: fds, Bytes: len(data), SHA256: hex.EncodeToString(sum[:]), EOF: true})
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pipereader:", err)
		os.Exit(1)
	}
}
