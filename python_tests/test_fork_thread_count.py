"""The fork-warning judgement (extension/go_threads.c) counts threads as CPython does: with /proc and without it.

CPython 3.12+ warns on fork() when the count of OS threads it makes is above 1: on Linux
from /proc/self/stat, on macOS from Mach (Go's threads among them); where that count
fails it counts the threading module's threads only. pyos must cause no warning and
hide none that the user's threads cause, however the count is made. Each case runs a
script with and without pyos and compares what CPython printed. macOS's count (Mach's,
with Go's own count of its threads) is compiled by make macos-check and runs on a Mac only.
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

from pyos import _pyosgo

WARNS = sys.version_info >= (3, 12)
LINUX = sys.platform == "linux"
linux_only = pytest.mark.skipif(not LINUX, reason="/proc and its count are Linux's; the native cases run here")
WARNING = "DeprecationWarning: This process (pid=N) is multi-threaded"
# Whether /proc/self/stat counts the OS's threads: qemu-user (7.2) writes 0 there, so under it CPython counts the
# threading module's threads only, as it does without /proc.
STAT_COUNTS_THREADS = LINUX and not UNDER_QEMU_USER
# Whether CPython's count sees a thread the threading module never sees (Mach's count does on macOS).
SEES_RAW_THREADS = STAT_COUNTS_THREADS or sys.platform == "darwin"

# argv: "pyos" imports pyos; "unnamed" then renames Go's threads (the control: the judgement
# knows them by their name); "thread" starts a threading thread, "raw-thread" an OS thread
# threading never sees.
FORK_SCRIPT = """
import _thread, os, sys, threading
if "pyos" in sys.argv:
    import pyos

    if "unnamed" in sys.argv:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/comm", "r+") as f:
                if f.read() == pyos._pyosgo._GO_THREAD_NAME + "\\n":
                    f.seek(0)
                    f.write("unnamed")
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


def test_only_gos_threads_cause_no_warning(tmp_path):
    assert stderr_of_fork(tmp_path) == ""
    assert stderr_of_fork(tmp_path, "pyos") == ""


@linux_only
@pytest.mark.skipif(not WARNS, reason="CPython warns of threads at fork from 3.12 on")
@pytest.mark.skipif(UNDER_QEMU_USER, reason="qemu-user's /proc/self/stat gives no thread count for the control's")
def test_control_go_threads_without_their_name_warn(tmp_path):
    # The name is what tells Go's threads: renamed, they are taken for the user's, and the warning is back.
    assert WARNING in stderr_of_fork(tmp_path, "pyos", "unnamed")


@linux_only
def test_without_proc_only_gos_threads_cause_no_warning(tmp_path):
    assert stderr_of_fork(tmp_path, proc=False) == ""
    assert stderr_of_fork(tmp_path, "pyos", proc=False) == ""


@pytest.mark.parametrize("thread", ["thread", "raw-thread"])
def test_a_user_thread_keeps_cpythons_warning(tmp_path, thread):
    without_pyos = stderr_of_fork(tmp_path, thread)
    assert stderr_of_fork(tmp_path, thread, "pyos") == without_pyos
    assert (WARNING in without_pyos) == (WARNS and (thread == "thread" or SEES_RAW_THREADS))


@linux_only
@pytest.mark.parametrize("thread", ["thread", "raw-thread"])
def test_without_proc_a_user_thread_keeps_cpythons_warning(tmp_path, thread):
    without_pyos = stderr_of_fork(tmp_path, thread, proc=False)
    assert stderr_of_fork(tmp_path, thread, "pyos", proc=False) == without_pyos
    # Without /proc CPython counts the threading module's threads: a raw thread goes unseen.
    assert (WARNING in without_pyos) == (WARNS and thread == "thread")


@linux_only
def test_without_proc_nothing_is_counted():
    unmountable = why_no_mount_namespace()
    if unmountable is not None:
        pytest.skip(unmountable)
    code = "import pyos; print(*pyos._pyosgo._thread_counts())"
    done = subprocess.run([*WITHOUT_PROC, sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "0"]


def proc_stat_num_threads() -> int:
    with open("/proc/self/stat", "rb") as f:
        return int(f.read().rpartition(b")")[2].split()[17])


@linux_only
def test_linux_count_is_proc_stat_num_threads():
    assert _pyosgo._thread_counts()[0] == proc_stat_num_threads()
    assert (proc_stat_num_threads() > 1) == STAT_COUNTS_THREADS  # Go's threads are running


# CPython reads /proc/self/stat's 20th space-separated word: a process name with a space
# shifts it onto the nice value (0 here), and CPython falls back to threading's count.
COUNT_SCRIPT = """
import _thread, os, sys, threading
import pyos
with open("/proc/self/comm", "w") as f:
    f.write(sys.argv[1])
started = threading.Event()
_thread.start_new_thread(lambda: (started.set(), threading.Event().wait()), ())
started.wait()
print(pyos._pyosgo._thread_counts()[0], flush=True)
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
                count += f.read() == pyos._pyosgo._GO_THREAD_NAME + "\\n"
        except FileNotFoundError:
            pass
    return count

# Go may start a thread between two readings: take the first pair whose Go counts agree.
for _ in range(20):
    before, by_name, judged, after = (
        pyos._pyosgo._go_thread_count(), named(), pyos._pyosgo._thread_counts()[1], pyos._pyosgo._go_thread_count()
    )
    if before == after:
        break
pid = os.fork()
if pid == 0:
    # In a forked child: no Go, no call into it, and no thread but this one.
    os._exit(pyos._pyosgo._go_thread_count() * 10 + sum(pyos._pyosgo._thread_counts()))
_, status = os.waitpid(pid, 0)
print(before, after, by_name, judged, os.waitstatus_to_exitcode(status))
"""


@linux_only
def test_go_threads_by_name_are_gos_count_and_none_in_a_forked_child():
    done = run_python(GO_COUNT_SCRIPT, options=["-W", "ignore::DeprecationWarning"])
    assert done.returncode == 0, done.stderr
    before, after, by_name, judged, in_child = map(int, done.stdout.split())
    assert before == after == by_name == judged > 0
    assert in_child == (1 if STAT_COUNTS_THREADS else 0) and "called into Go" not in done.stderr


# The names are read again when /proc/self/task lists other threads than at the last reading:
# a thread that starts, one that is renamed to Go's name while the list stays (kept, as read
# before), and the list changing again (read again: the renamed thread counted).
CACHE_SCRIPT = """
import _thread, threading
import pyos

counts = pyos._pyosgo._thread_counts
first = counts()
started, stop, tids = threading.Event(), threading.Event(), []
_thread.start_new_thread(lambda: (tids.append(threading.get_native_id()), started.set(), stop.wait()), ())
started.wait()
with_thread = counts()
with open(f"/proc/self/task/{tids[0]}/comm", "w") as f:
    f.write(pyos._pyosgo._GO_THREAD_NAME)
renamed_same_list = counts()
started.clear()
_thread.start_new_thread(lambda: (started.set(), stop.wait()), ())
started.wait()
print(*first, *with_thread, *renamed_same_list, *counts())
stop.set()
"""


@linux_only
@pytest.mark.skipif(not STAT_COUNTS_THREADS, reason="qemu-user's /proc/self/stat gives no thread count")
def test_names_are_read_again_when_the_threads_change():
    done = run_python(CACHE_SCRIPT)
    assert done.returncode == 0, done.stderr
    c0, g0, c1, g1, c2, g2, c3, g3 = map(int, done.stdout.split())
    assert (c1, g1) == (c0 + 1, g0) and g0 > 0
    assert (c2, g2) == (c1, g1)
    assert (c3, g3) == (c1 + 1, g1 + 1)


# The judgement's own filters: first in warnings.filters while only Go's threads are besides the
# caller's (the same two objects from fork to fork), out while a user thread runs, and nothing
# done to a warnings.filters that is not a list.
FILTERS_SCRIPT = """
import os, threading, warnings
import pyos

before = pyos._pyosgo._fork_warning_before
pid = os.getpid()
before()
ours = warnings.filters[:2]
assert [f[1] for f in ours] == [
    f"This process (pid={pid}) is multi-threaded, use of {call}() may lead to deadlocks in the child."
    for call in ("fork", "forkpty")
], ours
assert all(f[0] == "ignore" and f[2] is DeprecationWarning and f[3] is None and f[4] == 0 for f in ours), ours
before()
assert all(a is b for a, b in zip(warnings.filters[:2], ours))
assert sum(f[1] == ours[0][1] for f in warnings.filters) == 1
warnings.simplefilter("default")
before()
assert [f[1] for f in warnings.filters[:2]] == [f[1] for f in ours] and warnings.filters[2][0] == "default"
assert sum(f[1] == ours[0][1] for f in warnings.filters) == 1
stop = threading.Event()
thread = threading.Thread(target=stop.wait)
thread.start()
before()
assert not any(isinstance(f[1], str) and "multi-threaded" in f[1] for f in warnings.filters), warnings.filters
stop.set()
thread.join()
warnings.filters = tuple(warnings.filters)
before()
assert isinstance(warnings.filters, tuple)
print("ok")
"""


@linux_only
@pytest.mark.skipif(not STAT_COUNTS_THREADS, reason="qemu-user's /proc/self/stat gives no thread count")
def test_the_judgements_filters():
    done = run_python(FILTERS_SCRIPT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"
