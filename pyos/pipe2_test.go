package pyos_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"testing"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

// emfileChildEnv tells the re-executed test binary to run the EMFILE check in place of the tests.
const emfileChildEnv = "PYOS_TEST_EMFILE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(seedChildEnv) != "" {
		seedChild()
		os.Exit(0)
	}
	if os.Getenv(emfileChildEnv) != "" {
		if err := emfileChild(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// openFDs counts the descriptors open in this process.
func openFDs(t testing.TB) int {
	t.Helper()
	n, err := countFDs()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func countFDs() (int, error) {
	entries, err := os.ReadDir("/dev/fd")
	if err != nil {
		return 0, err
	}
	return len(entries), nil
}

func closePipe(t testing.TB, r, w int) {
	t.Helper()
	if err := unix.Close(r); err != nil {
		t.Errorf("close read end %d: %v", r, err)
	}
	if err := unix.Close(w); err != nil {
		t.Errorf("close write end %d: %v", w, err)
	}
}

func flagCombinations() []int {
	bits := append([]int{pyos.O_NONBLOCK, pyos.O_CLOEXEC}, osSpecificFlags...)
	var combos []int
	for mask := 0; mask < 1<<len(bits); mask++ {
		flags := 0
		for i, bit := range bits {
			if mask&(1<<i) != 0 {
				flags |= bit
			}
		}
		combos = append(combos, flags)
	}
	return combos
}

func TestPipe2AppliesFlagsToBothEnds(t *testing.T) {
	for _, flags := range flagCombinations() {
		t.Run(fmt.Sprintf("%#x", flags), func(t *testing.T) {
			r, w, err := pyos.Pipe2(flags)
			if err != nil {
				t.Fatalf("Pipe2(%#x): %v", flags, err)
			}
			defer closePipe(t, r, w)
			for end, fd := range map[string]int{"read": r, "write": w} {
				fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
				if err != nil {
					t.Fatal(err)
				}
				fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := fl&pyos.O_NONBLOCK != 0, flags&pyos.O_NONBLOCK != 0; got != want {
					t.Errorf("%s end: O_NONBLOCK set = %v, want %v", end, got, want)
				}
				checkOSSpecificFlags(t, end, fl, flags)
				if got, want := fdfl&unix.FD_CLOEXEC != 0, flags&pyos.O_CLOEXEC != 0; got != want {
					t.Errorf("%s end: FD_CLOEXEC set = %v, want %v", end, got, want)
				}
			}
			if mode, _ := unix.FcntlInt(uintptr(r), unix.F_GETFL, 0); mode&unix.O_ACCMODE != unix.O_RDONLY {
				t.Errorf("read end access mode %#x, want O_RDONLY", mode&unix.O_ACCMODE)
			}
			if mode, _ := unix.FcntlInt(uintptr(w), unix.F_GETFL, 0); mode&unix.O_ACCMODE != unix.O_WRONLY {
				t.Errorf("write end access mode %#x, want O_WRONLY", mode&unix.O_ACCMODE)
			}
		})
	}
}

func TestPipe2RejectsInvalidFlagsWithEINVAL(t *testing.T) {
	for _, flags := range []int{-1, unix.O_RDWR, unix.O_WRONLY, unix.O_APPEND, 1 << 30, math.MinInt32} {
		before := openFDs(t)
		r, w, err := pyos.Pipe2(flags)
		if !errors.Is(err, unix.EINVAL) {
			t.Errorf("Pipe2(%#x) = %d, %d, %v; want EINVAL", flags, r, w, err)
			if err == nil {
				closePipe(t, r, w)
			}
			continue
		}
		if r != -1 || w != -1 {
			t.Errorf("Pipe2(%#x) failed but returned fds %d, %d", flags, r, w)
		}
		var sysErr *os.SyscallError
		if !errors.As(err, &sysErr) || sysErr.Syscall != "pipe2" {
			t.Errorf("Pipe2(%#x) error %q does not name the pipe2 syscall", flags, err)
		}
		if after := openFDs(t); after != before {
			t.Errorf("Pipe2(%#x) leaked %d fds", flags, after-before)
		}
	}
}

func TestPipe2RejectsFlagsOutsideCIntBeforeTheSyscall(t *testing.T) {
	// The kernel would truncate 1<<32|O_NONBLOCK to O_NONBLOCK and succeed.
	for _, flags := range []int{1<<32 | pyos.O_NONBLOCK, math.MaxInt32 + 1, math.MinInt32 - 1, math.MaxInt64, math.MinInt64} {
		before := openFDs(t)
		r, w, err := pyos.Pipe2(flags)
		if !errors.Is(err, unix.EINVAL) || r != -1 || w != -1 {
			t.Errorf("Pipe2(%#x) = %d, %d, %v; want -1, -1, EINVAL", flags, r, w, err)
			if err == nil {
				closePipe(t, r, w)
			}
		}
		if after := openFDs(t); after != before {
			t.Errorf("Pipe2(%#x) created %d fds", flags, after-before)
		}
	}
}

func TestPipeIsCloseOnExecAndBlocking(t *testing.T) {
	r, w, err := pyos.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer closePipe(t, r, w)
	for _, fd := range []int{r, w} {
		fdfl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if fdfl&unix.FD_CLOEXEC == 0 || fl&unix.O_NONBLOCK != 0 {
			t.Errorf("fd %d: F_GETFD %#x, F_GETFL %#x; want FD_CLOEXEC and blocking", fd, fdfl, fl)
		}
	}
}

func TestPipe2ReportsEMFILEWithoutLeaking(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), emfileChildEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("EMFILE check in a child process with a lowered RLIMIT_NOFILE: %v\n%s", err, out)
	}
}

// emfileChild lowers RLIMIT_NOFILE in this process, then checks that Pipe2
// fails with EMFILE both when no fd is free and when only one is, without
// leaving a half-made pipe behind.
func emfileChild() error {
	open, err := countFDs()
	if err != nil {
		return err
	}
	// countFDs itself holds one fd open while it reads, so open-1 are in use.
	var limit unix.Rlimit
	setRlimitField(&limit.Cur, open+8)
	setRlimitField(&limit.Max, open+8)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &limit); err != nil {
		return fmt.Errorf("setrlimit: %w", err)
	}
	var held []int
	defer func() {
		for _, fd := range held {
			unix.Close(fd)
		}
	}()
	for {
		r, w, err := pyos.Pipe2(pyos.O_CLOEXEC)
		if errors.Is(err, unix.EMFILE) {
			break
		}
		if err != nil {
			return fmt.Errorf("filling the fd table: %w", err)
		}
		held = append(held, r, w)
	}
	// Pipes fill the table two at a time and may leave one slot, so fill it up with single fds.
	for {
		fd, err := unix.Dup(held[0])
		if errors.Is(err, unix.EMFILE) {
			break
		}
		if err != nil {
			return fmt.Errorf("dup while filling the fd table: %w", err)
		}
		held = append(held, fd)
	}
	if r, w, err := pyos.Pipe2(pyos.O_CLOEXEC); !errors.Is(err, unix.EMFILE) || r != -1 || w != -1 {
		return fmt.Errorf("with no free slot: Pipe2 = %d, %d, %v; want -1, -1, EMFILE", r, w, err)
	}

	// Free exactly one slot: a pipe needs two, so pipe2 must fail and keep nothing.
	unix.Close(held[len(held)-1])
	held = held[:len(held)-1]
	before, err := countFDs()
	if err != nil {
		return err
	}
	if r, w, err := pyos.Pipe2(pyos.O_CLOEXEC); !errors.Is(err, unix.EMFILE) || r != -1 || w != -1 {
		return fmt.Errorf("with one free slot: Pipe2 = %d, %d, %v; want -1, -1, EMFILE", r, w, err)
	}
	after, err := countFDs()
	if err != nil {
		return err
	}
	if after != before {
		return fmt.Errorf("with one free slot: %d fds before the failed Pipe2, %d after", before, after)
	}
	return nil
}

// setRlimitField sets an rlimit bound, int64 on FreeBSD and uint64 elsewhere.
func setRlimitField[T int64 | uint64](field *T, value int) {
	*field = T(value)
}

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

func TestPipe2EINVALMakesNoGarbage(t *testing.T) {
	if allocs := testing.AllocsPerRun(1000, func() { pyos.Pipe2(-1) }); allocs != 0 {
		t.Errorf("Pipe2(-1) allocates %v times per call", allocs)
	}
}
