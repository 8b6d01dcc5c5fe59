"""One of pipe2_bench.py's three measured interpreters: bare, floor (Go's floor loaded) or pyos.

    python worker.py bare|floor|pyos

Reads one command a line on stdin and answers each with one line of numbers:

    pipe2 FLAGS CALLS      ns per pipe2(FLAGS) + 2 closes (os.pipe2; floor: os.pipe2 and the no-op Go call;
                           pyos: pyos.pipe2); an OSError is caught and counted as a call
    calls CALLS            floor only: ns per _gofloor.noop() and per _gofloor.c_noop()
    threads N CALLS        pipes per second from N threads making CALLS pipes each, as pipe2 does

Imports nothing the three kinds do not share but _gofloor (found on PYTHONPATH) or pyos.
"""

import os
import sys
import threading
import time

KIND = sys.argv[1]
noop = None
if KIND == "floor":
    import _gofloor

    noop = _gofloor.noop
    pipe2 = os.pipe2
elif KIND == "pyos":
    import pyos

    pipe2 = pyos.pipe2
else:
    pipe2 = os.pipe2
close = os.close


def loop(flags, calls):
    """The iteration each kind makes: a pipe2 and its closes, and in the floor's the no-op call into Go."""
    if noop is None:
        for _ in range(calls):
            try:
                r, w = pipe2(flags)
            except OSError:
                continue
            close(r)
            close(w)
    else:
        for _ in range(calls):
            try:
                r, w = pipe2(flags)
            except OSError:
                noop()
                continue
            noop()
            close(r)
            close(w)


def ns_per_pipe(flags, calls):
    start = time.perf_counter_ns()
    loop(flags, calls)
    return (time.perf_counter_ns() - start) / calls


def ns_per_call(f, calls):
    start = time.perf_counter_ns()
    for _ in range(calls):
        f()
    return (time.perf_counter_ns() - start) / calls


def pipes_per_second(threads, calls):
    workers = [threading.Thread(target=loop, args=(0, calls)) for _ in range(threads)]
    start = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return threads * calls / (time.perf_counter() - start)


def serve():
    for line in sys.stdin:
        command, *args = line.split()
        numbers = [int(a) for a in args]
        if command == "pipe2":
            result = [ns_per_pipe(*numbers)]
        elif command == "calls":
            result = [ns_per_call(_gofloor.noop, *numbers), ns_per_call(_gofloor.c_noop, *numbers)]
        elif command == "threads":
            result = [pipes_per_second(*numbers)]
        else:
            raise SystemExit(f"worker.py: unknown command {command!r}")
        print(*result, flush=True)


serve()
