"""Python and Go on the two ends of one pyos pipe, both ways: bytes intact, EOF, no fd leaked."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import pyos

# tests/cmd's programs list the fds a process starts with from /proc/self/fd.
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="tests/cmd's programs read /proc/self/fd, Linux's")

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = bytes((i * 7 + i // 251) % 256 for i in range(1 << 20))  # larger than a pipe's buffer


@pytest.fixture(scope="module")
def go_programs(tmp_path_factory):
    out = tmp_path_factory.mktemp("go")
    for name in ("pipereader", "pipewriter"):
        subprocess.run(["go", "build", "-o", str(out / name), f"./tests/cmd/{name}"], cwd=ROOT, check=True)
    return out


@linux_only
def test_python_parent_go_child(go_programs):
    r, w = pyos.pipe2(pyos.O_CLOEXEC | pyos.O_NONBLOCK)
    child = subprocess.Popen([str(go_programs / "pipereader"), str(r)], stdout=subprocess.PIPE, pass_fds=(r,))
    os.close(r)
    os.set_blocking(w, True)
    with os.fdopen(w, "wb") as writer:
        writer.write(PAYLOAD)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0
    report = json.loads(out)
    fds = {int(fd): target for fd, target in report.pop("fds_at_start").items()}
    assert fds[r].startswith("pipe:")
    # Besides stdio and the read end, only Go's own: its listing of /proc/self/fd and
    # the cgroup CPU-quota files the runtime keeps open to size GOMAXPROCS.
    others = {fd: t for fd, t in fds.items() if fd not in (0, 1, 2, r)}
    assert all(t.startswith("/sys/fs/cgroup/") or t.endswith("/fd") for t in others.values()), others
    assert report == {"bytes": len(PAYLOAD), "sha256": hashlib.sha256(PAYLOAD).hexdigest(), "eof": True}


@linux_only
def test_go_parent_python_child(go_programs):
    proc = subprocess.run(
        [str(go_programs / "pipewriter"), sys.executable, str(len(PAYLOAD))],
        stdout=subprocess.PIPE,
        text=True,
        timeout=60,
        check=True,
    )
    child_line, parent_sha = proc.stdout.splitlines()
    report = json.loads(child_line)
    # fd 3 is the read end; the listing's own fd is the one more the child sees.
    assert report["fds_at_start"][:4] == [0, 1, 2, 3] and len(report["fds_at_start"]) == 5
    assert report["bytes"] == len(PAYLOAD)
    assert report["sha256"] == parent_sha == hashlib.sha256(PAYLOAD).hexdigest()
    assert report["eof"] is True
