//go:build linux && pyos_emulate && pyos_pipe2_window

package pyos

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseWindowFDs(t *testing.T) {
	if report, release, err := parseWindowFDs("7,9"); report != 7 || release != 9 || err != nil {
		t.Errorf(`parseWindowFDs("7,9") = %d, %d, %v; want 7, 9, nil`, report, release, err)
	}
	for _, spec := range []string{"", "7", "7,", ",9", "7;9", "x,9", "7,-1", "7,9,11"} {
		if _, _, err := parseWindowFDs(spec); err == nil {
			t.Errorf("parseWindowFDs(%q) accepted it", spec)
		}
	}
}

// windowPipes returns the two pipes of a window: report (Pipe2 writes, the test reads) and release.
func windowPipes(t *testing.T) (report, release *os.File, reportW, releaseR int) {
	t.Helper()
	reportR, reportWFile, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	releaseRFile, releaseW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, f := range []*os.File{reportR, reportWFile, releaseRFile, releaseW} {
			f.Close()
		}
	})
	return reportR, releaseW, int(reportWFile.Fd()), int(releaseRFile.Fd())
}

// pipe2StoppedByTheWindow starts pipe2(O_CLOEXEC) with the window of stayInTheWindow, and returns the pipe it
// reported and the result pipe2 gives once it goes on; the test closes the pipe.
func pipe2StoppedByTheWindow(t *testing.T, report *os.File, reportW, releaseR int) (reported string, result chan string) {
	t.Helper()
	betweenPipeAndFcntl = func(r, w int) {
		if err := stayInTheWindow(reportW, releaseR, r, w); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { betweenPipeAndFcntl = nil })
	result = make(chan string, 1)
	go func() {
		r, w, err := pipe2(O_CLOEXEC)
		if err != nil {
			t.Error(err)
		}
		result <- fmt.Sprintf("%d %d\n", r, w)
	}()
	line := make([]byte, 64)
	n, err := report.Read(line)
	if err != nil {
		t.Fatal(err)
	}
	return string(line[:n]), result
}

func TestTheWindowReportsThePipeAndWaitsForTheRelease(t *testing.T) {
	report, release, reportW, releaseR := windowPipes(t)
	reported, result := pipe2StoppedByTheWindow(t, report, reportW, releaseR)
	r, _ := reportedPipe(t, reported)
	if fl, err := unix.FcntlInt(uintptr(r), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC != 0 {
		t.Errorf("in the window, fd %d has fd flags %#x (%v), want no FD_CLOEXEC yet", r, fl, err)
	}
	if _, err := release.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if got := <-result; got != reported {
		t.Errorf("pipe2 returned %q, reported %q", got, reported)
	}
	// A window that waited for the release took its byte; one that left at once left it there, whichever of the two
	// goroutines ran first.
	if hasAByteToRead(t, releaseR) {
		t.Error("the release byte is still unread: the window did not wait for it")
	}
}

// hasAByteToRead reports whether fd has data to read now.
func hasAByteToRead(t *testing.T, fd int) bool {
	t.Helper()
	for {
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
}

// reportedPipe returns the fds of a report, which the test closes.
func reportedPipe(t *testing.T, reported string) (r, w int) {
	t.Helper()
	if _, err := fmt.Sscanf(reported, "%d %d\n", &r, &w); err != nil {
		t.Fatalf("reported %q: %v", reported, err)
	}
	t.Cleanup(func() {
		unix.Close(r)
		unix.Close(w)
	})
	return r, w
}

func TestTheWindowLetsAWaitingForkGoFirst(t *testing.T) {
	report, _, reportW, releaseR := windowPipes(t)
	reported, result := pipe2StoppedByTheWindow(t, report, reportW, releaseR)
	r, _ := reportedPipe(t, reported)
	// No release is written: the exec's wait for the fork lock is what ends the window.
	if childHasPipe(t, inodeOf(t, r)) {
		t.Error("an exec that waited for the fork lock inherited a pipe meant to be close-on-exec")
	}
	if got := <-result; got != reported {
		t.Errorf("pipe2 returned %q, reported %q", got, reported)
	}
}
