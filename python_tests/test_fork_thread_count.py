"""The fork-warning judgement counts threads as CPython does on each OS: with /proc, without it, and macOS's way.

CPython 3.12+ warns on fork() when the count of OS threads it makes is above 1: on Linux
from /proc/self/stat, on macOS from Mach (Go's threads among them); where that count
fails it counts the threading module's threads only. pyos must cause no warning and
hide none that the user's threads cause, however the count is made. Each case runs a
script with and without pyos and compares what CPython printed.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import UNDER_QEMU_USER, run_python

from pyos import _goruntime

WARNS = sys.version_info >= (3, 12)
LINUX = sys.platform == "linux"
# Where the test runs on Linux, the macOS path runs too (its counts standing in, see FORK_SCRIPT).
PATHS = [pytest.param([], id="native"), *([pytest.param(["macos-path"], id="macos-path")] if LINUX else [])]
linux_only = pytest.mark.skipif(not LINUX, reason="/proc and its count are Linux's; the native cases run here")
WARNING = "DeprecationWarning: This process (pid=N) is multi-threaded"
# Whether /proc/self/stat counts the OS's threads: qemu-user (7.2) writes 0 there, so under it CPython counts the
# threading module's threads only, as it does without /proc.
STAT_COUNTS_THREADS = LINUX and not UNDER_QEMU_USER
# Whether CPython's count sees a thread the threading module never sees (Mach's count does on macOS).
SEES_RAW_THREADS = STAT_COUNTS_THREADS or sys.platform == "darwin"

# argv: "pyos" imports pyos; "macos-path" makes its judgement take macOS's path, with
# CPython's Linux count standing in for Mach's and Go's threads counted by their names
# standing in for Go's own count ("macos-path-no-go-count": a Go count of 0, the control);
# "thread" starts a threading thread, "raw-thread" an OS thread threading never sees.
FORK_SCRIPT = """
import _thread, os, sys, threading
if "pyos" in sys.argv:
    import pyos
    from pyos import _goruntime

    def go_threads_by_name():
        named = 0
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/comm") as f:
                named += f.read() == "pyos-go\\n"
        return named

    if any(arg.startswith("macos-path") for arg in sys.argv):
        _goruntime._PLATFORM = "darwin"
        _goruntime._mach_thread_count = _goruntime._linux_thread_count
        _goruntime._go_thread_count = (lambda: 0) if "macos-path-no-go-count" in sys.argv else go_threads_by_name
stop = threading.Event()
started = threading.Event()
if "thread" in sys.argv:
    threading.Thread(target=stop.wait).start()
if "raw-thread" in sys.argv:
    _thread.start_new_thread(lambda: (started.set(), stop.wait()), ())
    started.wait()
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
stop.set()
"""

# A mount namespace of its own, made private before anything is mounted in it (the
# unshare of manylinux2014's util-linux has no --propagation), with an empty tmpfs over
# /proc: CPython's count, and pyos's, find no /proc there. Needs CAP_SYS_ADMIN, which
# make test's root has, and the workflow gives its containers (docs/ci.md).
WITHOUT_PROC = [
    "unshare",
    "--mount",
    "sh",
    "-c",
    'mount --make-rprivate / && mount -t tmpfs none /proc && exec "$@"',
    "-",
]


@functools.cache
def why_no_mount_namespace() -> str | None:
    """Why WITHOUT_PROC cannot run here (no unshare or mount, or no CAP_SYS_ADMIN, as in a bwrap'd Debian root), or
    None where it can: make test's host can, and so do the workflow's containers."""
    try:
        probe = subprocess.run([*WITHOUT_PROC, "true"], capture_output=True, text=True, timeout=60)
    except FileNotFoundError as err:
        return f"no mount namespace here: {err}"
    return None if probe.returncode == 0 else f"no mount namespace here: {probe.stderr.strip() or probe.returncode}"


def stderr_of_fork(tmp_path: Path, *args: str, proc: bool = True) -> str:
    unmountable = None if proc else why_no_mount_namespace()
    if unmountable is not None:
        pytest.skip(unmountable)
    script = tmp_path / "fork_script.py"
    script.write_text(FORK_SCRIPT)
    argv = [sys.executable, str(script), *args]
    done = subprocess.run(
        argv if proc else [*WITHOUT_PROC, *argv], stderr=subprocess.PIPE, text=True, timeout=60, check=True
    )
    return re.sub(r"pid=\d+", "pid=N", done.stderr)


@pytest.mark.parametrize("path", PATHS)
def test_only_gos_threads_cause_no_warning(tmp_path, path):
    assert stderr_of_fork(tmp_path) == ""
    assert stderr_of_fork(tmp_path, "pyos", *path) == ""


@linux_only
def test_without_proc_only_gos_threads_cause_no_warning(tmp_path):
    assert stderr_of_fork(tmp_path, proc=False) == ""
    assert stderr_of_fork(tmp_path, "pyos", proc=False) == ""


@pytest.mark.parametrize("thread", ["thread", "raw-thread"])
@pytest.mark.parametrize("path", PATHS)
def test_a_user_thread_keeps_cpythons_warning(tmp_path, path, thread):
    without_pyos = stderr_of_fork(tmp_path, thread)
    assert stderr_of_fork(tmp_path, thread, "pyos", *path) == without_pyos
    assert (WARNING in without_pyos) == (WARNS and (thread == "thread" or SEES_RAW_THREADS))


@linux_only
@pytest.mark.parametrize("thread", ["thread", "raw-thread"])
def test_without_proc_a_user_thread_keeps_cpythons_warning(tmp_path, thread):
    without_pyos = stderr_of_fork(tmp_path, thread, proc=False)
    assert stderr_of_fork(tmp_path, thread, "pyos", proc=False) == without_pyos
    # Without /proc CPython counts the threading module's threads: a raw thread goes unseen.
    assert (WARNING in without_pyos) == (WARNS and thread == "thread")


@linux_only
@pytest.mark.skipif(UNDER_QEMU_USER, reason="qemu-user's /proc/self/stat gives no thread count for the control's")
def test_macos_path_control_without_gos_count_gos_threads_warn(tmp_path):
    # The macOS path's Go count is what keeps Go's threads from warning: with 0 for it,
    # CPython's warning (3.12+) is back for a process whose only other threads are Go's.
    assert (WARNING in stderr_of_fork(tmp_path, "pyos", "macos-path-no-go-count")) == WARNS


def proc_stat_num_threads() -> int:
    with open("/proc/self/stat", "rb") as f:
        return int(f.read().rpartition(b")")[2].split()[17])


@linux_only
def test_linux_count_is_proc_stat_num_threads():
    assert _goruntime._linux_thread_count() == proc_stat_num_threads()
    assert (proc_stat_num_threads() > 1) == STAT_COUNTS_THREADS  # Go's threads are running


def test_without_proc_nothing_is_taken_for_gos(monkeypatch, tmp_path):
    monkeypatch.setattr(_goruntime, "_PLATFORM", "linux")
    monkeypatch.setattr(_goruntime, "_STAT", str(tmp_path / "no-stat"))
    assert _goruntime._threads_cpython_counts() == (0, 0)
    assert _goruntime.only_go_threads_besides_caller() is False


@linux_only
def test_without_proc_task_list_no_thread_is_gos(monkeypatch, tmp_path):
    monkeypatch.setattr(_goruntime, "_TASKS", str(tmp_path / "no-task"))
    assert _goruntime._threads_cpython_counts() == (proc_stat_num_threads(), 0)
    assert _goruntime.only_go_threads_besides_caller() is False


@pytest.mark.parametrize(("mach", "go", "judged"), [(6, 5, True), (7, 5, False), (0, 5, False), (1, 0, False)])
def test_macos_path_judges_from_the_mach_and_go_counts(monkeypatch, mach, go, judged):
    monkeypatch.setattr(_goruntime, "_PLATFORM", "darwin")
    monkeypatch.setattr(_goruntime, "_mach_thread_count", lambda: mach)
    monkeypatch.setattr(_goruntime, "_go_thread_count", lambda: go)
    assert _goruntime.only_go_threads_besides_caller() is judged


@pytest.mark.parametrize("platform", ["freebsd14", "netbsd10", "openbsd7"])
def test_elsewhere_cpython_counts_threading_threads_only(monkeypatch, platform):
    monkeypatch.setattr(_goruntime, "_PLATFORM", platform)
    assert _goruntime.only_go_threads_besides_caller() is False


# CPython reads /proc/self/stat's 20th space-separated word: a process name with a space
# shifts it onto the nice value (0 here), and CPython falls back to threading's count.
COUNT_SCRIPT = """
import _thread, os, sys, threading
from pyos import _goruntime
with open("/proc/self/comm", "w") as f:
    f.write(sys.argv[1])
started = threading.Event()
_thread.start_new_thread(lambda: (started.set(), threading.Event().wait()), ())
started.wait()
print(_goruntime._linux_thread_count(), flush=True)
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
"""


@linux_only
@pytest.mark.parametrize("name", ["python", "a b"])
def test_linux_count_reads_proc_stat_as_cpython_does(name):
    assert os.nice(0) == 0  # the field a name with a space shifts onto
    done = run_python(COUNT_SCRIPT, name)
    assert done.returncode == 0, done.stderr
    count = int(done.stdout)
    assert (count > 1) == (name == "python" and STAT_COUNTS_THREADS)
    if WARNS:
        assert ("is multi-threaded" in done.stderr) == (count > 1), done.stderr


GO_COUNT_SCRIPT = """
import os
import pyos

def named():
    count = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                count += f.read() == "pyos-go\\n"
        except FileNotFoundError:
            pass
    return count

# Go may start a thread between two readings: take the first pair whose Go counts agree.
for _ in range(20):
    before, by_name, after = pyos._pyosgo._go_thread_count(), named(), pyos._pyosgo._go_thread_count()
    if before == after:
        break
pid = os.fork()
if pid == 0:
    os._exit(pyos._pyosgo._go_thread_count())  # in a forked child: no Go, no call into it
_, status = os.waitpid(pid, 0)
print(before, after, by_name, os.waitstatus_to_exitcode(status), pyos._pyosgo._mach_thread_count())
"""


@linux_only
def test_go_thread_count_is_the_threads_named_for_go_and_zero_in_a_forked_child():
    done = run_python(GO_COUNT_SCRIPT, options=["-W", "ignore::DeprecationWarning"])
    assert done.returncode == 0, done.stderr
    before, after, by_name, in_child, mach = map(int, done.stdout.split())
    assert before == after == by_name > 0
    assert in_child == 0 and "called into Go" not in done.stderr
    assert mach == 0  # Mach's count exists on macOS only
