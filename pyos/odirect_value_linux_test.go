//go:build linux && pyos_emulate

package pyos_test

import "golang.org/x/sys/unix"

const oDirectOrJunk = unix.O_DIRECT
