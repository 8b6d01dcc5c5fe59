#!/usr/bin/env python3
"""The interpreters of scripts/matrix.py that the host lacks, made once and cached in $PYOS_CACHE.

    python3 scripts/interpreters.py provision NAME...   make each root (matrix.ROOTS) or 3.13t unless cached
    python3 scripts/interpreters.py run ROOT -- CMD...  run CMD in a root

A root is a Debian suite made by mmdebstrap, holding the python3.X (with -venv and -dev) of every
interpreter matrix.py puts in it, gcc and libc6-dev. Commands run in it with bwrap: the root as /, a
new /proc, /dev and /tmp, the repository, the host's Go (GOROOT, read-only) with its module and build
caches, the host's CA bundle, resolv.conf and local paths named by PIP_* variables; the environment
holds only HOME, PATH, GOARCH, LANG and the host's GO*, CGO_*, PIP_*, PYOS_* and proxy variables and
those named in $PYOS_PASSENV. Roots of another machine run under qemu-user-static through
binfmt_misc. 3.13t is free-threaded CPython built by pyenv's python-build from the tarball in Debian
trixie's python3.13 source package, which is upstream's (python-build checks its sha256).

Root's work (apt-get, mmdebstrap, bwrap). Host packages are installed with apt-get when missing.
Everything is made in $PYOS_CACHE/.tmp and renamed into place when finished: a name in the cache is
a finished interpreter. $PYOS_CACHE defaults to ~/.cache/pyos.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import matrix

CACHE = Path(os.environ.get("PYOS_CACHE") or Path.home() / ".cache" / "pyos").absolute()
REPO = Path(__file__).resolve().parents[1]
SELF = Path(__file__).resolve()
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
STD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ROOT_PACKAGES = ["gcc", "libc6-dev", "ca-certificates"]
DEBIAN_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
PROXY_VARIABLES = {"http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}
GO_SETTINGS = ["GOROOT", "GOMODCACHE", "GOCACHE", "GOPROXY", "GOFLAGS", "GOSUMDB", "GONOSUMDB", "GOTOOLCHAIN"]

PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
PYTHON_BUILD = PYENV_ROOT / "plugins" / "python-build" / "bin" / "python-build"
FREE_THREADED_SUITE, FREE_THREADED_VERSION = "trixie", "3.13.5"  # python-build's definition 3.13.5t
# What python-build's CPython needs to build every standard module it checks.
BUILD_PACKAGES = ["gcc", "make", "pkg-config", "xz-utils", "libffi-dev", "libssl-dev", "zlib1g-dev", "libbz2-dev"]
BUILD_PACKAGES += ["liblzma-dev", "libsqlite3-dev", "libreadline-dev", "libncurses-dev", "uuid-dev", "libgdbm-dev"]


class Error(Exception):
    """A failure that names what is missing or what failed."""


def echo(cmd: list[str]) -> None:
    print("+ " + shlex.join(cmd), file=sys.stderr, flush=True)


def run(cmd: list[str], log: Path | None = None, **kwargs: object) -> None:
    """Run and echo cmd; with log, its output goes there and its last lines show if it fails."""
    echo(cmd)
    if log is None:
        returncode = subprocess.run(cmd, **kwargs).returncode  # type: ignore[call-overload]
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as out:
            out.write(f"+ {shlex.join(cmd)}\n")
            out.flush()
            returncode = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, **kwargs).returncode  # type: ignore[call-overload]
    if returncode:
        tail = log.read_text(errors="replace").splitlines()[-20:] if log else []
        raise Error(
            "\n".join([*tail, f"failed (exit {returncode}): {shlex.join(cmd)}" + (f"; log: {log}" if log else "")])
        )


def apt_install(packages: list[str]) -> None:
    """Install the host's Debian packages that are missing, after apt-get update."""
    query = ["dpkg-query", "-W", "-f", "${Package} ${Status}\n", *packages]
    listed = subprocess.run(query, capture_output=True, text=True).stdout
    missing = sorted(set(packages) - set(re.findall(r"^(\S+) install ok installed$", listed, re.M)))
    if missing:
        if os.geteuid() != 0:
            raise Error(f"the Debian packages {' '.join(missing)} are missing; installing them needs root")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-q"], env=env)
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env)


def debian_mirror() -> str:
    """The Debian archive the host's apt sources name."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        text = path.read_text() if path.is_file() else ""
        for uri in re.findall(r"^(?:URIs:|deb(?:\s+\[[^]]*\])?)\s+(\S+)", text, re.M):
            if "security" not in uri:
                return str(uri).rstrip("/")
    raise Error("no Debian archive in /etc/apt/sources.list or /etc/apt/sources.list.d")


@contextlib.contextmanager
def making(name: str) -> Iterator[Path | None]:
    """A fresh directory in $PYOS_CACHE/.tmp to make name in, or None if it is cached; renamed to name on success."""
    final = CACHE / name
    (CACHE / ".tmp").mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".tmp" / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second provision of name waits for the first one
        if final.exists():
            yield None
            return
        for stale in (CACHE / ".tmp").glob(f"{name}.*.partial"):  # left by an interrupted run
            unmount_under(stale)
            shutil.rmtree(stale)
        tmp = Path(tempfile.mkdtemp(prefix=f"{name}.", suffix=".partial", dir=CACHE / ".tmp"))
        try:
            yield tmp / name
            os.rename(tmp / name, final)
        finally:
            unmount_under(tmp)
            shutil.rmtree(tmp)


def unmount_under(path: Path) -> None:
    """Unmount what an interrupted mmdebstrap left mounted in path (its /proc, /sys and /dev), deepest first, so that
    removing path neither fails on them nor reaches into the host's."""
    escaped = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    mounts = [re.sub(r"\\([0-7]{3})", lambda octal: chr(int(octal[1], 8)), m) for m in escaped]  # \040 is a space
    for point in sorted((m for m in mounts if Path(m).is_relative_to(path.resolve())), reverse=True):
        run(["umount", "--lazy", point])


def packages_for(root: str) -> list[str]:
    """The Debian packages of a root: each of its interpreters' python3.X with -venv and -dev, and a C compiler."""
    versions = [i.version for i in matrix.INTERPRETERS if i.home == root]
    return [f"python{v}{suffix}" for v in versions for suffix in ("", "-venv", "-dev")] + ROOT_PACKAGES


def provision_root(root: str) -> None:
    suite, machine = matrix.ROOTS[root]
    arch = DEBIAN_ARCH[machine]
    apt_install(["mmdebstrap", "bubblewrap"])
    ensure_binfmt(machine)
    with making(root) as target:
        if target is None:
            return
        log = CACHE / ".logs" / f"{root}.log"
        include = ",".join(packages_for(root))
        command = ["mmdebstrap", "--variant=apt", f"--architectures={arch}", f"--include={include}"]
        command.append('--aptopt=Acquire::Check-Valid-Until "false"')  # the archive here is a dated snapshot
        try:
            run([*command, suite, str(target), debian_mirror()], log)
        except Error as err:
            unknown = re.findall(r"Unable to locate package (\S+)|Package '?(\S+?)'? has no installation", str(err))
            if unknown:
                names = " ".join(sorted({a or b for a, b in unknown}))
                raise Error(f"Debian {suite} ({arch}) has no package {names}, which the {root} root needs") from None
            raise


def ensure_binfmt(machine: str) -> None:
    """Make the kernel run machine's programs through qemu-user-static, also inside a root (binfmt_misc's F flag)."""
    if machine == os.uname().machine:
        return
    apt_install(["qemu-user-static", "binfmt-support", "arch-test"])  # mmdebstrap needs arch-test for a foreign arch
    binfmt = Path("/proc/sys/fs/binfmt_misc")
    if not (binfmt / "register").exists():
        run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt)])
    entry = binfmt / f"qemu-{machine}"
    if not entry.exists() or not entry.read_text().startswith("enabled"):
        run(["update-binfmts", "--enable", f"qemu-{machine}"])
    if "F" not in re.findall(r"^flags: (\S*)", entry.read_text(), re.M)[0]:
        raise Error(f"{entry} lacks binfmt_misc's F flag: programs in a root cannot find qemu-{machine}-static")


def provision_free_threaded(name: str) -> None:
    """Build CPython 3.13t with python-build from Debian's copy of the upstream tarball."""
    if not PYTHON_BUILD.exists():
        raise Error(f"pyenv's python-build is missing ({PYTHON_BUILD}); it builds {name}")
    apt_install(BUILD_PACKAGES)
    with making(name) as target:
        if target is None:
            return
        log = CACHE / ".logs" / f"{name}.log"
        tarballs = target.parent / "tarballs"
        lists = target.parent / "apt"
        (lists / "lists" / "partial").mkdir(parents=True)
        tarballs.mkdir()
        (lists / "sources.list").write_text(f"deb-src {debian_mirror()} {FREE_THREADED_SUITE} main\n")
        apt = [f"Dir::Etc::sourcelist={lists / 'sources.list'}", "Dir::Etc::sourceparts=/nonexistent"]
        apt += [f"Dir::State::Lists={lists / 'lists'}", f"Dir::Cache={lists}"]
        apt_options = [word for option in apt for word in ("-o", option)]
        run(["apt-get", *apt_options, "-q", "update"], log)
        run(["apt-get", *apt_options, "-q", "source", "--download-only", "python3.13"], log, cwd=tarballs)
        orig = tarballs / f"python3.13_{FREE_THREADED_VERSION}.orig.tar.xz"
        if not orig.exists():
            found = ", ".join(p.name for p in tarballs.glob("*.orig.tar.*")) or "none"
            raise Error(f"Debian {FREE_THREADED_SUITE}'s python3.13 has no {orig.name} (found {found})")
        (tarballs / f"Python-{FREE_THREADED_VERSION}.tar.xz").symlink_to(orig.name)
        env = dict(os.environ, PYTHON_BUILD_CACHE_PATH=str(tarballs), PYTHON_BUILD_SKIP_MIRROR="1")
        # Static, as python-build's default shared build finds libpython by its build path, not where it is renamed
        # to; no test modules: a shorter build and a smaller install.
        env["PYTHON_CONFIGURE_OPTS"] = "--disable-shared --disable-test-modules"
        run([str(PYTHON_BUILD), f"{FREE_THREADED_VERSION}t", str(target)], log, env=env)


def provision(name: str) -> float:
    """Make interpreter or root name unless cached (pyenv's are the host's); the seconds it took."""
    started = time.monotonic()
    home = matrix.BY_NAME[name].home if name in matrix.BY_NAME else name
    if home == "build":
        provision_free_threaded(name)
    elif home in matrix.ROOTS:
        provision_root(home)
    elif home != "pyenv":
        raise Error(f"unknown interpreter or root {name!r}; choose from {' '.join([*matrix.ROOTS, *matrix.BY_NAME])}")
    return time.monotonic() - started


def pyenv_python(version: str) -> Path:
    """The newest pyenv CPython of a minor version."""
    found = []
    for path in (PYENV_ROOT / "versions").glob(f"{version}.*/bin/python{version}"):
        patch = path.parents[1].name[len(version) + 1 :]
        if patch.isdigit():
            found.append((int(patch), path))
    if not found:
        raise Error(f"no CPython {version} under pyenv ({PYENV_ROOT / 'versions'}): pyenv install {version}")
    return max(found)[1]


def command(name: str) -> tuple[list[str], str]:
    """The argv prefix that runs a command where interpreter name lives (provisioned here), and its python."""
    interpreter = matrix.BY_NAME[name]
    if interpreter.home == "pyenv":
        return [], str(pyenv_python(interpreter.version))
    provision(name)
    if interpreter.home == "build":
        return [], str(CACHE / name / "bin" / f"python{interpreter.version}t")
    return [sys.executable, str(SELF), "run", interpreter.home, "--"], f"/usr/bin/python{interpreter.version}"


def go_settings() -> dict[str, str]:
    """The host Go's settings a root's commands share (go env, so its configuration file counts too)."""
    try:
        found = json.loads(subprocess.run(["go", "env", "-json", *GO_SETTINGS], capture_output=True).stdout)
    except (OSError, ValueError):
        raise Error("go is not on PATH or `go env` failed: the roots use the host's Go") from None
    return {key: value for key, value in found.items() if value}


def bwrap_command(root: str, argv: list[str]) -> list[str]:
    """bwrap running argv in root, with what the module docstring lists."""
    names = set(os.environ.get("PYOS_PASSENV", "").replace(",", " ").split())
    env = go_settings()
    env.update(
        (key, value)
        for key, value in os.environ.items()
        if key.startswith(("GO", "CGO_", "PIP_", "PYOS_")) or key in PROXY_VARIABLES or key in names
    )
    machine = matrix.ROOTS[root][1]
    env.update(HOME="/root", PATH=f"{env['GOROOT']}/bin:{STD_PATH}", LANG="C.UTF-8", GOARCH=DEBIAN_ARCH[machine])
    binds = ["--ro-bind", env["GOROOT"], env["GOROOT"], "--bind", str(REPO), str(REPO)]
    for key in ("GOMODCACHE", "GOCACHE"):
        os.makedirs(env[key], exist_ok=True)
        binds += ["--bind", env[key], env[key]]
    local_paths = {word for key in env if key.startswith("PIP_") for word in env[key].split() if word.startswith("/")}
    for path in sorted(p for p in local_paths if os.path.exists(p)):
        binds += ["--ro-bind", path, path]
    for path in (CA_BUNDLE, "/etc/resolv.conf"):
        binds += ["--ro-bind", path, path]
    cwd = os.getcwd() if Path.cwd().is_relative_to(REPO) else str(REPO)
    environment = [word for key, value in sorted(env.items()) for word in ("--setenv", key, value)]
    mounts = ["--bind", str(CACHE / root), "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    return ["bwrap", *mounts, *binds, "--chdir", cwd, "--clearenv", *environment, "--die-with-parent", "--", *argv]


def main(argv: list[str]) -> int:
    if argv[:1] == ["provision"] and len(argv) > 1:
        for name in argv[1:]:
            seconds = provision(name)
            print(f"{name}: ready in {seconds:.0f} s", flush=True)
        return 0
    if argv[:1] == ["run"] and len(argv) > 3 and argv[1] in matrix.ROOTS and argv[2] == "--":
        provision_root(argv[1])
        bwrap = bwrap_command(argv[1], argv[3:])
        os.execvp(bwrap[0], bwrap)
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Error as err:
        sys.exit(f"interpreters.py: error: {err}")
