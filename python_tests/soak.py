"""Soak pyos.pipe2: CALLS calls with mixed flags and error paths, EMFILE included.

    python soak.py CALLS

Runs in its own process with RLIMIT_NOFILE lowered, so that every so often the
fd table fills and pipe2 fails with EMFILE. After a warm-up tenth, samples the
open-fd count and RSS; prints one JSON object with the samples and gopy's
handle count (the binding never creates handles, so it must stay 0).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

from support import open_fds

import pyos

ERROR_ARGS = (-1, 2**40, "x", 1.5)


def rss_kb() -> int:
    if sys.platform != "linux":  # no /proc: ps reports the resident set in KiB
        return int(subprocess.run(["ps", "-o", "rss=", "-p", str(os.getpid())], capture_output=True).stdout)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> None:
    calls = int(sys.argv[1])
    limit = len(open_fds()) + 64
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    flag_cycle = [0, pyos.O_CLOEXEC, pyos.O_NONBLOCK, pyos.O_NONBLOCK | pyos.O_CLOEXEC]
    if hasattr(pyos, "O_DIRECT"):
        flag_cycle.append(pyos.O_DIRECT)
    counts = {"ok": 0, "errors": 0, "emfile": 0}
    samples = []
    held: list[int] = []
    warm_up = calls // 10
    for i in range(calls):
        if i % 1000 == 999:  # fill the fd table, hit EMFILE, then let go of everything
            while True:
                try:
                    held.extend(pyos.pipe2(pyos.O_CLOEXEC))
                except OSError as exc:
                    assert exc.errno == 24, exc
                    counts["emfile"] += 1
                    break
            for fd in held:
                os.close(fd)
            held.clear()
        elif i % 7 == 3:
            try:
                pyos.pipe2(ERROR_ARGS[i % len(ERROR_ARGS)])
            except (OSError, OverflowError, TypeError):
                counts["errors"] += 1
        else:
            r, w = pyos.pipe2(flag_cycle[i % len(flag_cycle)])
            os.close(r)
            os.close(w)
            counts["ok"] += 1
        if i >= warm_up and i % max(1, calls // 20) == 0:
            samples.append({"call": i, "fds": len(open_fds()), "rss_kb": rss_kb()})
    handles = pyos._pyosgo.NumHandles()
    print(json.dumps({"calls": calls, **counts, "samples": samples, "handles": handles}))


if __name__ == "__main__":
    main()
