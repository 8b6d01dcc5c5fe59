"""pyos.install(): os.pipe2 for scripts that cannot change, where os has none; os.posix_spawn(p) in the fork gate,
where pipe2 is emulated."""

import os
import sys

from . import _spawn

# What pipe2 takes, where pyos has it: O_DIRECT only where pyos exports it (Linux).
_CONSTANTS = ("O_NONBLOCK", "O_CLOEXEC", "O_DIRECT")
_SPAWNS = ("posix_spawn", "posix_spawnp")


def install() -> bool:
    """Make pyos's pipe2 os.pipe2 where os has no pipe2, and pyos's posix_spawn and posix_spawnp os's where pyos
    emulates pipe2; return whether os changed.

    Where os has a pipe2 of its own (CPython on Linux and the BSDs), os.pipe2 is left
    as it is. Otherwise os gains pipe2, each of O_NONBLOCK, O_CLOEXEC and (where pyos
    has it) O_DIRECT that it lacks, and their names in os.__all__. A constant os
    already has keeps its value, which is the system's, as pyos's is: if they differ,
    RuntimeError is raised and os is left untouched.

    Where pyos emulates pipe2 (macOS), os.posix_spawn and os.posix_spawnp become
    pyos's, which no emulated pipe2 is split by, so that subprocess and unchanged
    scripts use them; where pipe2 is the system call they are os's own and stay.
    A second call changes nothing and returns False.
    """
    package = sys.modules[__name__.rpartition(".")[0]]  # pyos, whole by the time this runs
    changed = False
    if not hasattr(os, "pipe2"):
        constants = {name: getattr(package, name) for name in _CONSTANTS if name in package.__all__}
        for name, value in constants.items():
            if getattr(os, name, value) != value:
                raise RuntimeError(f"os.{name} is {getattr(os, name)} but pyos.{name} is {value}: os was not changed")
        added = {name: value for name, value in constants.items() if not hasattr(os, name)}
        for name, value in added.items():
            setattr(os, name, value)
        os.pipe2 = package.pipe2
        os.__all__.extend(name for name in ("pipe2", *added) if name not in os.__all__)
        changed = True
    if _spawn.GATED:
        for name in _SPAWNS:
            if getattr(os, name) is not getattr(_spawn, name):
                setattr(os, name, getattr(_spawn, name))
                changed = True
    return changed
