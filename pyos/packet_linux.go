//go:build linux && !pyos_emulate

package pyos

import "golang.org/x/sys/unix"

// PacketMode is the flag, O_DIRECT, that makes each write to the pipe a packet that one read returns whole; 0 where HavePacketMode is false.
const PacketMode = unix.O_DIRECT

// HavePacketMode reports whether Pipe2 accepts PacketMode, which only Linux's pipe2 system call offers.
const HavePacketMode = true
