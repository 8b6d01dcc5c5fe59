#!/usr/bin/env python3
"""The one table of every interpreter pyos is tested on and every wheel it ships.

    python3 scripts/matrix.py         print the README's wheel table, as this table has it
    python3 scripts/matrix.py --ci    print the names of CI's interpreters (CI), for .ci/run

test_all.py, dist.py, interpreters.py and .ci/run take their interpreters and wheels from here;
dist.py's check holds pyproject.toml's classifiers and the README's table to it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Interpreter:
    name: str  # the name test_all.py and dist.py take: 3.9, 3.13t, arm64-3.14, ...
    home: str  # "pyenv" (the host's ~/.pyenv/versions), "build" (interpreters.py builds it), or a root of ROOTS
    version: str  # the minor version, e.g. 3.13

    @property
    def free_threaded(self) -> bool:
        return self.name.endswith("t")

    @property
    def machine(self) -> str:
        return ROOTS[self.home][1] if self.home in ROOTS else "x86_64"


# Debian roots interpreters.py makes with mmdebstrap: name -> (suite, machine).
ROOTS = {
    "sid-amd64": ("sid", "x86_64"),
    "sid-arm64": ("sid", "aarch64"),
    "bookworm-arm64": ("bookworm", "aarch64"),
}

INTERPRETERS = [
    *(Interpreter(v, "pyenv", v) for v in ("3.9", "3.10", "3.11", "3.12", "3.13")),
    Interpreter("3.13t", "build", "3.13"),
    Interpreter("3.14", "sid-amd64", "3.14"),
    Interpreter("3.15", "sid-amd64", "3.15"),
    Interpreter("arm64-3.11", "bookworm-arm64", "3.11"),
    Interpreter("arm64-3.13", "sid-arm64", "3.13"),
    Interpreter("arm64-3.14", "sid-arm64", "3.14"),
    Interpreter("arm64-3.15", "sid-arm64", "3.15"),
]
BY_NAME = {interpreter.name: interpreter for interpreter in INTERPRETERS}

# What .ci/run tests after make test (which runs on the host's python3): the oldest CPython, the newest and the
# free-threaded one; make test-all and make test-wheels take every interpreter. The root comes before the build:
# .ci/run provisions them in this order while make test runs, and the root is mostly downloads.
CI = ["3.9", "3.15", "3.13t"]


@dataclass(frozen=True)
class Wheel:
    tag: str  # the wheel's python and ABI tags, e.g. cp39-abi3
    machine: str  # x86_64 or aarch64
    builder: str  # the interpreter that builds it (the oldest of its kind: the stable ABI is 3.9's)

    @property
    def name(self) -> str:
        return f"{self.tag}-{self.machine}"

    @property
    def platform(self) -> str:
        return f"manylinux_2_17_{self.machine}"  # manylinux2014: zig links against glibc 2.17

    @property
    def testers(self) -> list[Interpreter]:
        """Every interpreter of its machine the wheel installs on: abi3 on every GIL-enabled one."""
        same = [i for i in INTERPRETERS if i.machine == self.machine]
        if self.tag.endswith("abi3"):
            return [i for i in same if not i.free_threaded]
        return [i for i in same if i.free_threaded]


WHEELS = [
    Wheel("cp39-abi3", "x86_64", "3.9"),
    Wheel("cp39-abi3", "aarch64", "arm64-3.11"),
    Wheel("cp313-cp313t", "x86_64", "3.13t"),
]


def classifiers() -> set[str]:
    """The Python classifiers pyproject.toml must have: one per minor version, and free threading."""
    found = {f"Programming Language :: Python :: {i.version}" for i in INTERPRETERS}
    if any(i.free_threaded for i in INTERPRETERS):
        found.add("Programming Language :: Python :: Free Threading :: 3 - Stable")
    return found


def readme_table() -> str:
    """The README's table of wheels: for each, the CPythons make test-wheels tests it on."""
    lines = ["| machine | wheel | `make test-wheels` runs the suite on CPython |", "|---|---|---|"]
    for wheel in WHEELS:
        versions = ", ".join(i.name.removeprefix("arm64-") for i in wheel.testers)
        lines.append(f"| Linux {wheel.machine}, glibc 2.17+ | `{wheel.tag}-{wheel.platform}` | {versions} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--ci"]:
        print(" ".join(CI))
    else:
        print(readme_table(), end="")
