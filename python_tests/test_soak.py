"""A bounded soak: open fds and RSS stay flat over many calls (make soak runs 10**6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CALLS = int(os.environ.get("PYOS_SOAK_CALLS", 10**5))


@pytest.mark.slow
def test_soak_keeps_fds_and_rss_flat():
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("soak.py")), str(CALLS)],
        stdout=subprocess.PIPE,
        text=True,
        timeout=1800,
        check=True,
    )
    report = json.loads(proc.stdout)
    samples = report["samples"]
    assert len(samples) >= 10
    assert report["ok"] > CALLS // 2 and report["errors"] > 0 and report["emfile"] >= CALLS // 1000
    assert len({s["fds"] for s in samples}) == 1, samples
    # A leak grows with the calls; warm-up (the allocator, Go's heap, under qemu-user its translation cache) is a
    # step in the first samples. So RSS is judged over the second half of the run: under 512 KiB, ~10 bytes a call.
    later = samples[len(samples) // 2 :]
    growth_kb = max(s["rss_kb"] for s in later) - later[0]["rss_kb"]
    assert growth_kb < 512, samples
    assert report["handles"] == 0
