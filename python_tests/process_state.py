"""Print, as JSON, what a process is that the tests compare with and without `import pyos`.

    python process_state.py [--import-pyos] [--soft-nofile N]

With --soft-nofile the soft RLIMIT_NOFILE is set to N first; with --import-pyos pyos
is imported (and a pipe made with it) before the state is read. The state: the
signal masks of /proc/self/status, Python's signal handlers, every resource limit,
the open fds by kind, the working directory, the umask, this thread's name, how
many pipes can be made before EMFILE, and what an exec'd program (cat, with
subprocess's restore_signals=False, as os.system and os.posix_spawn do) inherits:
its signal masks, limits and environment. Linux only (/proc).
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys

MASKS = ("SigBlk", "SigIgn")


def masks(status: str) -> dict[str, str]:
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    return {name: fields[name].strip() for name in MASKS}


def limits() -> dict[str, list[int]]:
    return {
        name: list(resource.getrlimit(getattr(resource, name))) for name in dir(resource) if name.startswith("RLIMIT_")
    }


def open_fds() -> dict[int, str]:
    """Each open fd and what it is, without the inode numbers that differ between processes (pipe:[123])."""
    kinds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            kinds[int(name)] = re.sub(r":\[\d+\]$", "", os.readlink(f"/proc/self/fd/{name}"))
        except FileNotFoundError:  # the listing's own fd
            continue
    return kinds


def python_handlers() -> dict[int, str]:
    return {
        int(sig): repr(signal.getsignal(sig)) for sig in signal.valid_signals() if signal.getsignal(sig) is not None
    }


def pipes_until_emfile(make_pipe) -> int:
    made = []
    try:
        while True:
            made.extend(make_pipe())
    except OSError as err:
        if err.errno != 24:  # EMFILE
            raise
    finally:
        for fd in made:
            os.close(fd)
    return len(made) // 2


def exec_child() -> dict[str, object]:
    out = subprocess.run(
        ["cat", "/proc/self/status", "/proc/self/limits", "/proc/self/environ"],
        restore_signals=False,
        capture_output=True,
        check=True,
    ).stdout.decode()
    status, _, rest = out.partition("Limit ")
    limit_lines, _, environ = rest.rpartition("\n")
    return {"masks": masks(status), "limits": limit_lines, "environ": sorted(environ.split("\0"))}


def main() -> None:
    args = sys.argv[1:]
    if "--soft-nofile" in args:
        soft = int(args[args.index("--soft-nofile") + 1])
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    make_pipe = os.pipe
    if "--import-pyos" in args:
        import pyos

        for fd in pyos.pipe2(0):  # ... and enter Go, once
            os.close(fd)
        make_pipe = pyos.pipe
    with open("/proc/thread-self/comm") as f:
        thread_name = f.read()
    with open("/proc/self/status") as f:
        status = f.read()
    umask = os.umask(0o022)
    os.umask(umask)
    state = {
        "masks": masks(status),
        "python_handlers": python_handlers(),
        "limits": limits(),
        "fds": open_fds(),
        "cwd": os.getcwd(),
        "umask": umask,
        "thread_name": thread_name,
        "exec_child": exec_child(),
        "pipes_until_emfile": pipes_until_emfile(make_pipe) if "--soft-nofile" in args else None,
    }
    print(json.dumps(state))


if __name__ == "__main__":
    main()
