package pyos

import (
	"os"

	"golang.org/x/sys/unix"
)

// commonErrors are the errors Pipe2 returns most, made once: a caller that meets
// them in a loop, as the Python binding can, makes no garbage. Errors are never
// modified, so sharing them is safe.
var commonErrors = map[string]map[unix.Errno]error{}

func init() {
	for _, name := range []string{"pipe2", "pipe", "fcntl"} {
		commonErrors[name] = map[unix.Errno]error{}
		for _, errno := range []unix.Errno{unix.EINVAL, unix.EMFILE, unix.ENFILE} {
			commonErrors[name][errno] = os.NewSyscallError(name, errno)
		}
	}
}

// syscallError is os.NewSyscallError(name, err) without an allocation for the common errnos.
func syscallError(name string, err error) error {
	if errno, ok := err.(unix.Errno); ok {
		if cached, ok := commonErrors[name][errno]; ok {
			return cached
		}
	}
	return os.NewSyscallError(name, err)
}
