"""Fork stress: children of a process whose Go runtime is busy must never hang.

    python fork_stress.py FORKS [--enter-go-in-child]

Two threads keep pyos busy (pipes, errors, garbage) while the main thread forks
FORKS children, up to CONCURRENT at a time. Each child calls every public pyos
function, error paths included, checks each result against os, and leaves by
os._exit (even children) or by a normal interpreter exit (odd ones). A child
still running DEADLINE seconds after its fork is killed and counted as hung.
Then a multiprocessing Pool with the 'fork' context maps a pyos-using function
over 50 items. Prints one JSON object.

--enter-go-in-child makes each child call into Go first, through gopy's wrapper
of the binding, as an extension without pyos's fork handling would: the control.
Such a child may hang on a lock that the fork caught held; pyos's guard stops it
before Go runs, so every one of them is counted as "stopped" (killed by SIGABRT
with the guard's message). Run the parent with GOGC=1 to keep Go's collector busy.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time

from support import UNDER_QEMU_USER, call_and_capture, reference_pipe2

import pyos

CONCURRENT = 16
# A hung child never finishes; the deadline only has to outlast an honest one. Under qemu-user, with other
# emulated work beside it, honest children took longer than 10 s (docs/development.md).
DEADLINE = 60.0 if UNDER_QEMU_USER else 10.0
POOL_ITEMS = 50
POOL_DEADLINE = 60.0


def keep_pyos_busy(stop: threading.Event) -> None:
    flags = [0, pyos.O_CLOEXEC, pyos.O_NONBLOCK | pyos.O_CLOEXEC, getattr(pyos, "O_DIRECT", 0)]
    i = 0
    while not stop.is_set():
        i += 1
        r, w = pyos.pipe2(flags[i % len(flags)])
        os.close(r)
        os.close(w)
        for bad in (-1, 2**40, "x", -1, -1, -1):  # -1 reaches Go; 2**40 and "x" stop in the C converter
            with contextlib.suppress(OSError, OverflowError, TypeError):
                pyos.pipe2(bad)
        _garbage = [bytearray(64) for _ in range(16)]


def expect_same_outcome(call, reference_call, *args) -> None:
    mine, reference = call_and_capture(call, *args), call_and_capture(reference_call, *args)
    if mine != reference:
        raise AssertionError(f"{call.__name__}{args}: {mine}, but {reference_call.__name__}: {reference}")


def check_pipe(pipe_call, reference_call, *args) -> None:
    expect_same_outcome(pipe_call, reference_call, *args)  # both ends in the state os's would be in
    r, w = pipe_call(*args)
    try:
        os.write(w, b"ping")
        if os.read(r, 16) != b"ping":
            raise AssertionError("pipe does not carry data")
    finally:
        os.close(r)
        os.close(w)


def exercise_every_public_function() -> None:
    for flags in (0, pyos.O_NONBLOCK | pyos.O_CLOEXEC, pyos.O_CLOEXEC):
        check_pipe(pyos.pipe2, reference_pipe2, flags)
    if pyos.HAVE_NATIVE_PIPE2:
        check_pipe(pyos.pipe2, reference_pipe2, pyos.O_DIRECT)
    elif hasattr(os, "O_DIRECT") and call_and_capture(pyos.pipe2, os.O_DIRECT).exc_args != (22, "Invalid argument"):
        raise AssertionError("the emulation did not reject O_DIRECT with EINVAL")
    check_pipe(pyos.pipe, os.pipe)
    for bad in ((-1,), (2**40,), ("x",), (1.5,), ()):
        expect_same_outcome(pyos.pipe2, reference_pipe2, *bad)
    expect_same_outcome(pyos.pipe, os.pipe, 1)
    pid = pyos.fork()
    if pid == 0:
        os._exit(0 if pyos.pipe2(0) else 1)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise AssertionError(f"grandchild exited with status {status}")


def child(index: int, enter_go: bool) -> None:
    code = 1
    try:
        if enter_go:  # what an extension without pyos's fork handling would do
            pyos._pyosgo.binding_ONonblock()
        exercise_every_public_function()
        code = 0
    except BaseException as exc:
        os.write(2, f"child {index}: {exc!r}\n".encode())
    if index % 2 == 0:
        os._exit(code)
    sys.exit(code)  # a normal interpreter exit: finalization runs in the child


def fork_children(count: int, enter_go: bool) -> dict[str, int]:
    running: dict[int, float] = {}
    ok = failed = hung = stopped = 0
    forked = 0
    while forked < count or running:
        while forked < count and len(running) < CONCURRENT:
            pid = os.fork()
            if pid == 0:
                child(forked, enter_go)
            running[pid] = time.monotonic()
            forked += 1
        time.sleep(0.002)
        now = time.monotonic()
        for pid, started in list(running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done == 0 and now - started > DEADLINE:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                hung += 1
            elif done == 0:
                continue
            elif os.waitstatus_to_exitcode(status) == 0:
                ok += 1
            elif os.waitstatus_to_exitcode(status) == -signal.SIGABRT:
                stopped += 1
            else:
                failed += 1
            del running[pid]
    return {"forks": count, "ok": ok, "failed": failed, "hung": hung, "stopped": stopped}


def pool_task(item: int) -> int:
    r, w = pyos.pipe2(pyos.O_CLOEXEC)
    try:
        os.write(w, item.to_bytes(2, "big"))
        return int.from_bytes(os.read(r, 2), "big") * 2
    finally:
        os.close(r)
        os.close(w)


def run_pool() -> str:
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        try:
            results = pool.map_async(pool_task, range(POOL_ITEMS)).get(timeout=POOL_DEADLINE)
        except multiprocessing.TimeoutError:
            return "timed out"
    return "ok" if results == [2 * i for i in range(POOL_ITEMS)] else f"wrong results: {results}"


def main() -> None:
    count = int(sys.argv[1])
    enter_go = "--enter-go-in-child" in sys.argv
    stop = threading.Event()
    busy = [threading.Thread(target=keep_pyos_busy, args=(stop,), daemon=True) for _ in range(2)]
    for t in busy:
        t.start()
    started = time.monotonic()
    report: dict[str, object] = dict(fork_children(count, enter_go))
    report["fork_seconds"] = round(time.monotonic() - started, 1)
    if not enter_go:
        report["pool"] = run_pool()
    stop.set()
    for t in busy:
        t.join()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
