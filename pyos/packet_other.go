//go:build unix && (!linux || pyos_emulate)

package pyos

// PacketMode is the flag, O_DIRECT, that makes each write to the pipe a packet that one read returns whole; 0 where HavePacketMode is false.
const PacketMode = 0

// HavePacketMode reports whether Pipe2 accepts PacketMode, which only Linux's pipe2 system call offers.
const HavePacketMode = false
