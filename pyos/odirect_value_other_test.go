//go:build unix && !linux

package pyos_test

const oDirectOrJunk = 0x10000000
