"""Per-call cost of pyos.pipe2 against os.pipe2, measured side by side.

Rounds alternate between the two so that drift in machine load hits both
alike; each figure is the median over the rounds, with the min-max spread.
"""

from __future__ import annotations

import os
import statistics
import time

import pyos

ROUNDS = 21
CALLS_PER_ROUND = 20_000


def per_call_ns(pipe2, flags: int) -> float:
    close = os.close
    start = time.perf_counter_ns()
    for _ in range(CALLS_PER_ROUND):
        r, w = pipe2(flags)
        close(r)
        close(w)
    return (time.perf_counter_ns() - start) / CALLS_PER_ROUND


def per_error_ns(pipe2) -> float:
    start = time.perf_counter_ns()
    for _ in range(CALLS_PER_ROUND):
        try:
            pipe2(-1)
        except OSError:
            pass
    return (time.perf_counter_ns() - start) / CALLS_PER_ROUND


def compare(name: str, measure) -> None:
    measure(os.pipe2)  # warm-up
    measure(pyos.pipe2)
    os_ns, pyos_ns, ratios = [], [], []
    for _ in range(ROUNDS):
        a = measure(os.pipe2)
        b = measure(pyos.pipe2)
        os_ns.append(a)
        pyos_ns.append(b)
        ratios.append(b / a)
    print(
        f"{name:<34} {statistics.median(os_ns):8.0f} {statistics.median(pyos_ns):8.0f}"
        f"   {statistics.median(ratios):5.3f}x  ({min(ratios):.3f}-{max(ratios):.3f})"
    )


def main() -> None:
    print(f"{ROUNDS} alternating rounds of {CALLS_PER_ROUND} calls; median ns per call")
    print(f"{'figure':<34} {'os':>8} {'pyos':>8}   ratio   (spread)")
    compare("pipe2(0) + 2 closes", lambda f: per_call_ns(f, 0))
    compare("pipe2(O_CLOEXEC|O_NONBLOCK) + 2x", lambda f: per_call_ns(f, os.O_CLOEXEC | os.O_NONBLOCK))
    compare("pipe2(-1) -> OSError", per_error_ns)


if __name__ == "__main__":
    main()
