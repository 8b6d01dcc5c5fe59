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
    growth_kb = max(s["rss_kb"] for s in samples) - samples[0]["rss_kb"]
    assert growth_kb < 1024, samples
    assert report["handles"] == 0
