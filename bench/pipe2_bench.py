"""make bench: pyos against os, side by side, and pyos's Go package on its own.

    python pipe2_bench.py [--per-call | --threads]

Every figure is measured in one run, in alternating A/B rounds so that drift in
the machine's load falls on both sides alike; a figure is the median of the
rounds' ratios, printed with their min-max spread. The results go to
bench/results.json and the per-round distributions to bench/results.png.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Callable

import pyos

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ROUNDS = 21
CALLS = 20_000
PROCESS_RUNS = 25
THREAD_COUNTS = (1, 2, 4, 8)
THREAD_ROUNDS = 15
THREAD_CALLS = 20_000
FORK_ROUNDS = 15
FORKS_PER_ROUND = 100
# Where the measured interpreters run: outside the source tree, as a user's do.
USER_CWD = tempfile.gettempdir()

# figure name -> (target ratio, True if pyos must stay at or below it, False if at or above)
TARGETS = {
    "per call: pipe2(0) + 2 closes": (1.05, True),
    "per call: pipe2(O_CLOEXEC|O_NONBLOCK) + 2 closes": (1.05, True),
    "import": (1.30, True),
    "fork + waitpid": (1.2, True),
}
RSS_TARGET_MB = 6.0


def alternate(measure_os: Callable[[], float], measure_pyos: Callable[[], float], rounds: int) -> dict:
    """Run rounds of os then pyos; return both sides' values and the per-round ratios pyos/os."""
    measure_os(), measure_pyos()  # warm-up
    os_values, pyos_values = [], []
    for _ in range(rounds):
        os_values.append(measure_os())
        pyos_values.append(measure_pyos())
    ratios = [p / o for p, o in zip(pyos_values, os_values)]
    return {
        "os": os_values,
        "pyos": pyos_values,
        "ratios": ratios,
        "ratio": statistics.median(ratios),
        "spread": [min(ratios), max(ratios)],
        "os_median": statistics.median(os_values),
        "pyos_median": statistics.median(pyos_values),
    }


def ns_per_pipe(pipe2, flags: int) -> Callable[[], float]:
    close = os.close

    def measure() -> float:
        start = time.perf_counter_ns()
        for _ in range(CALLS):
            r, w = pipe2(flags)
            close(r)
            close(w)
        return (time.perf_counter_ns() - start) / CALLS

    return measure


def ns_per_error(pipe2) -> Callable[[], float]:
    def measure() -> float:
        start = time.perf_counter_ns()
        for _ in range(CALLS):
            with contextlib.suppress(OSError):
                pipe2(-1)
        return (time.perf_counter_ns() - start) / CALLS

    return measure


def process_ms(code: str) -> Callable[[], float]:
    def measure() -> float:
        start = time.perf_counter_ns()
        subprocess.run([sys.executable, "-c", code], cwd=USER_CWD, check=True)
        return (time.perf_counter_ns() - start) / 1e6

    return measure


RSS_PROBE = "import re; print(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read())[1])"


def rss_kb(imports: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", f"{imports}\n{RSS_PROBE}"], cwd=USER_CWD, stdout=subprocess.PIPE, text=True, check=True
    )
    return float(out.stdout)


def pipes_per_second(pipe2, threads: int) -> Callable[[], float]:
    close = os.close

    def work() -> None:
        for _ in range(THREAD_CALLS):
            r, w = pipe2(0)
            close(r)
            close(w)

    def measure() -> float:
        workers = [threading.Thread(target=work) for _ in range(threads)]
        start = time.perf_counter()
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        return threads * THREAD_CALLS / (time.perf_counter() - start)

    return measure


FORK_PROBE = textwrap.dedent(
    """
    import os, sys, time, warnings
    warnings.simplefilter("ignore")
    if sys.argv[1] == "pyos":
        import pyos
        pyos.pipe2(0)
    start = time.perf_counter_ns()
    for _ in range({forks}):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    print((time.perf_counter_ns() - start) / {forks} / 1000)
    """
).format(forks=FORKS_PER_ROUND)


def fork_us(which: str) -> Callable[[], float]:
    def measure() -> float:
        out = subprocess.run(
            [sys.executable, "-c", FORK_PROBE, which], cwd=USER_CWD, stdout=subprocess.PIPE, text=True, check=True
        )
        return float(out.stdout)

    return measure


def go_bench() -> str:
    out = subprocess.run(
        ["go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "6", "./pyos"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout
    (HERE / "go_bench.txt").write_text(out)
    return out


def verdict(name: str, ratio: float) -> str:
    if name not in TARGETS:
        return ""
    target, at_most = TARGETS[name]
    ok = ratio <= target if at_most else ratio >= target
    return f"{'<=' if at_most else '>='} {target:.2f}x  {'met' if ok else 'MISSED'}"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in results["figures"] if n.startswith("per call")]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4.5))
    for ax, name in zip(axes, names):
        fig_data = results["figures"][name]
        ax.boxplot([fig_data["os"], fig_data["pyos"]], tick_labels=["os.pipe2", "pyos.pipe2"])
        ax.set_title(f"{name.removeprefix('per call: ')}\nratio {fig_data['ratio']:.3f}x", fontsize=9)
        ax.set_ylabel("ns per call")
    fig.suptitle(f"per-call time, {ROUNDS} alternating rounds of {CALLS} calls")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def thread_figure(threads: int) -> dict:
    """Pipes per second with threads threads, os.pipe2 then pyos.pipe2, in alternating rounds."""
    return alternate(pipes_per_second(os.pipe2, threads), pipes_per_second(pyos.pipe2, threads), THREAD_ROUNDS)


def threads_only() -> None:
    """Pipes per second at each thread count: the table for a free-threaded CPython."""
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"pyos {pyos.__version__} on CPython {platform.python_version()} ({'GIL' if gil else 'no GIL'})")
    print(
        f"{'threads':>7} {'os.pipe2':>12} {'pyos.pipe2':>12}  {'ratio':>7}  spread   (pipes/s, {THREAD_ROUNDS} rounds)"
    )
    for n in THREAD_COUNTS:
        f = thread_figure(n)
        print(
            f"{n:>7} {f['os_median']:>12,.0f} {f['pyos_median']:>12,.0f}  {f['ratio']:>6.3f}x"
            f"  {f['spread'][0]:.2f}-{f['spread'][1]:.2f}",
            flush=True,
        )


def main() -> None:
    if "--threads" in sys.argv:
        threads_only()
        return
    quick = "--per-call" in sys.argv  # only the per-call figures, for profiling work
    figures: dict[str, dict] = {}
    print(
        f"pyos {getattr(pyos, '__version__', '')} on CPython {platform.python_version()}, {os.cpu_count()} CPUs",
        flush=True,
    )

    figures["per call: pipe2(0) + 2 closes"] = alternate(ns_per_pipe(os.pipe2, 0), ns_per_pipe(pyos.pipe2, 0), ROUNDS)
    flags = os.O_CLOEXEC | os.O_NONBLOCK
    figures["per call: pipe2(O_CLOEXEC|O_NONBLOCK) + 2 closes"] = alternate(
        ns_per_pipe(os.pipe2, flags), ns_per_pipe(pyos.pipe2, flags), ROUNDS
    )
    figures["per call: pipe2(-1) -> OSError"] = alternate(ns_per_error(os.pipe2), ns_per_error(pyos.pipe2), ROUNDS)
    if quick:
        for name, f in figures.items():
            print(f"{name:<50} {f['os_median']:>8.0f} {f['pyos_median']:>8.0f}  {f['ratio']:.3f}x  {f['spread']}")
        return
    figures["import"] = alternate(process_ms("pass"), process_ms("import pyos"), PROCESS_RUNS)
    for n in THREAD_COUNTS:
        figures[f"threads: {n}"] = thread_figure(n)
    figures["fork + waitpid"] = alternate(fork_us("os"), fork_us("pyos"), FORK_ROUNDS)

    bare = statistics.median(rss_kb("") for _ in range(5))
    loaded = statistics.median(rss_kb("import pyos; pyos.pipe2(0)") for _ in range(5))
    rss = {"bare_kb": bare, "pyos_kb": loaded, "delta_mb": (loaded - bare) / 1024}

    units = {"per call": "ns", "import": "ms", "threads": "pipes/s", "fork": "us"}
    print(f"\n{'figure':<50} {'os':>10} {'pyos':>10}  {'ratio':>7}  {'spread':>13}  target")
    for name, f in figures.items():
        unit = next(u for prefix, u in units.items() if name.startswith(prefix))
        print(
            f"{name:<50} {f['os_median']:>10.0f} {f['pyos_median']:>10.0f}  {f['ratio']:>6.3f}x"
            f"  {f['spread'][0]:.3f}-{f['spread'][1]:.3f}  {verdict(name, f['ratio'])}   ({unit})"
        )
    rss_ok = "met" if rss["delta_mb"] <= RSS_TARGET_MB else "MISSED"
    print(
        f"{'RSS after import pyos (MB over a bare interpreter)':<50} {bare / 1024:>10.1f} {loaded / 1024:>10.1f}"
        f"  {rss['delta_mb']:>+6.1f} MB{'':16}<= +{RSS_TARGET_MB:.0f} MB  {rss_ok}"
    )

    go = go_bench()
    print("\ngo test -bench (benchstat reads bench/go_bench.txt):")
    print("\n".join(line for line in go.splitlines() if line.startswith("Benchmark")))

    results = {
        "python": platform.python_version(),
        "rounds": ROUNDS,
        "calls_per_round": CALLS,
        "figures": figures,
        "rss": rss,
        "targets": {name: {"ratio": t, "at_most": m} for name, (t, m) in TARGETS.items()},
        "go_bench": go,
    }
    (HERE / "results.json").write_text(json.dumps(results, indent=1))
    plot(results, HERE / "results.png")
    print("\nwrote bench/results.json, bench/results.png, bench/go_bench.txt")


if __name__ == "__main__":
    main()
