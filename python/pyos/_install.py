"""pyos.install(): os.pipe2 for scripts that cannot change, where os has none."""

import os
import sys

# What pipe2 takes, where pyos has it: O_DIRECT only where pyos exports it (Linux).
_CONSTANTS = ("O_NONBLOCK", "O_CLOEXEC", "O_DIRECT")


def install() -> bool:
    """Make pyos.pipe2 os.pipe2 where os has no pipe2, and return whether it did.

    Where os has a pipe2 of its own (CPython on Linux and the BSDs), os is left as it
    is and the result is False; so is a second call, once os has pyos's. Otherwise
    os gains pipe2, each of O_NONBLOCK, O_CLOEXEC and (where pyos has it) O_DIRECT
    that it lacks, and their names in os.__all__. A constant os already has keeps
    its value, which is the system's, as pyos's is: if they differ, RuntimeError is
    raised and os is left untouched.
    """
    if hasattr(os, "pipe2"):
        return False
    package = sys.modules[__name__.rpartition(".")[0]]  # pyos, whole by the time this runs
    constants = {name: getattr(package, name) for name in _CONSTANTS if name in package.__all__}
    for name, value in constants.items():
        if getattr(os, name, value) != value:
            raise RuntimeError(f"os.{name} is {getattr(os, name)} but pyos.{name} is {value}: os was not changed")
    added = {name: value for name, value in constants.items() if not hasattr(os, name)}
    for name, value in added.items():
        setattr(os, name, value)
    os.pipe2 = package.pipe2
    os.__all__.extend(name for name in ("pipe2", *added) if name not in os.__all__)
    return True
