"""Out of fds, and many threads at once: the same errors as os.pipe2, and no fd leaked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from support import open_fds

import pyos

EMFILE_SCRIPT = r"""
import errno, json, os, resource, sys
sys.path.insert(0, sys.argv[1])
import pyos
from support import open_fds

pipe2 = {"os": os.pipe2, "pyos": pyos.pipe2}[sys.argv[2]]
limit = len(open_fds()) + 16
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
held = []
report = {}
while True:
    try:
        held.extend(pipe2(os.O_CLOEXEC))
    except OSError as exc:
        report["full"] = [type(exc).__name__, exc.args, exc.errno, str(exc)]
        break
while True:  # pipes take slots two at a time and may leave one: fill it
    try:
        held.append(os.dup(held[0]))
    except OSError as exc:
        if exc.errno != errno.EMFILE:
            raise
        break
os.close(held.pop())  # exactly one slot free: a pipe needs two
before = open_fds()
try:
    held.extend(pipe2(os.O_CLOEXEC))
    report["one_free"] = "succeeded"
except OSError as exc:
    report["one_free"] = [type(exc).__name__, exc.args, exc.errno, str(exc)]
report["leaked"] = sorted(open_fds() - before)
print(json.dumps(report))
"""


def run_emfile(which: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", EMFILE_SCRIPT, str(Path(__file__).parent), which],
        stdout=subprocess.PIPE,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(proc.stdout)


def test_emfile_matches_os_pipe2_and_leaks_nothing():
    expected = run_emfile("os")
    actual = run_emfile("pyos")
    assert expected["full"][0] == "OSError" and expected["full"][2] == 24
    assert actual == expected
    assert actual["one_free"] == ["OSError", [24, "Too many open files"], 24, "[Errno 24] Too many open files"]
    assert actual["leaked"] == []


def test_32_threads_of_1000_calls_leak_no_fd():
    before = open_fds()
    errors: list[BaseException] = []
    seen_fds = set()
    lock = threading.Lock()
    start = threading.Barrier(32)

    def worker(seed: int) -> None:
        start.wait()
        flag_cycle = [0, pyos.O_CLOEXEC, pyos.O_NONBLOCK, pyos.O_NONBLOCK | pyos.O_CLOEXEC, -1]
        try:
            for i in range(1000):
                flags = flag_cycle[(seed + i) % len(flag_cycle)]
                if flags == -1:
                    try:
                        pyos.pipe2(flags)
                    except OSError as exc:
                        assert exc.args == (22, "Invalid argument")
                    else:
                        raise AssertionError("pipe2(-1) succeeded")
                    continue
                r, w = pyos.pipe2(flags)
                assert r != w and os.get_inheritable(r) == (not flags & pyos.O_CLOEXEC)
                with lock:
                    seen_fds.update((r, w))
                os.close(r)
                os.close(w)
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(seen_fds) > 2  # the threads really overlapped
    assert open_fds() == before
