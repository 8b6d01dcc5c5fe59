"""The seed example with os.pipe2 and os.fork replaced by pyos's, made deterministic.

The original leaves the parent racing the child: it neither closes w nor waits,
so the child may read before anything is written, and on a terminal the two
processes' lines interleave. Here the parent closes w and waits, the child reads
until EOF, and each process prints its lines when it exits. What it prints is what
the original's code prints (seed_example.out).
"""

import io
import os
import select
import sys

import pyos

# Block-buffered on a terminal as in a pipe: each process's lines go out when it
# exits, the child's first, since the parent waits for it.
if isinstance(sys.stdout, io.TextIOWrapper):
    sys.stdout.reconfigure(line_buffering=False)

flags = os.O_NONBLOCK
r, w = pyos.pipe2(flags)

pid = pyos.fork()
if pid > 0:
    os.close(r)
    print("Parent process is writing")
    text = b"Hello child process"
    os.write(w, text)
    print("Written text:", text.decode())
    os.close(w)
    os.waitpid(pid, 0)
else:
    os.close(w)
    print("\nChild Process is reading")
    reader = os.fdopen(r, "rb")
    data = b""
    while True:
        select.select([reader], [], [])  # the fd is non-blocking: wait for data or EOF
        chunk = reader.read()
        if chunk == b"":
            break
        data += chunk or b""
    print("Read text:", data.decode())
