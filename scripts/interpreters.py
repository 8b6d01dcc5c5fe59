#!/usr/bin/env python3
"""Provision, cache and run the extra interpreters pyos is tested on.

Stdlib only; runs under CPython 3.9+. Linux (Debian/Ubuntu-like host with apt), as root for everything that
needs apt-get, chroot or mount.

Interpreters (the CLI names):

  3.14      Debian's python3.14 (+ -venv, -dev, gcc, libc6-dev) in a debootstrap root of Debian sid. Sid first:
            it has the newest GCC (the C23 default is the point) and python3.14 longest; forky (testing) is the
            fallback if sid lacks a package or its debootstrap fails (sid can be mid-transition). Needs glibc >=
            2.38, hence a root. `python`, `python3` and `python3.14` are on PATH inside.
  3.13t     free-threaded CPython 3.13 (--disable-gil --disable-test-modules) built from the upstream tarball in
            Debian's python3.13 source package (the newest one the mirror serves, of trixie/forky/sid). A plain
            prefix on the host: bin/python3.13t (also bin/python, bin/python3). Static libpython, like pyenv's
            default: gopy links -lpython3.13t.
  arm64     an arm64 Debian sid root run under qemu-user via binfmt_misc: Debian's python3 (= python3.14) and,
            where the suite still has them, python3.13 and python3.15, each with -venv and -dev; gcc, libc6-dev.
  arm64-3.11  an arm64 Debian bookworm root: python3 = python3.11 (no Debian suite has 3.12).

  3.14t is not offered: no registry reachable here serves CPython 3.14's sources (Debian's python3.14 source
  package gives 404 for every version; no PyPI/npm/crates/Maven package ships them or a free-threaded build).

Emulation: binfmt_misc works here (the script mounts it if needed). Bookworm's qemu-user-static (7.2) runs
Python ~8x slower than trixie's qemu-user (10.x, static, no dependencies), so the script takes that package's
qemu-aarch64 binary into the cache (not installed on the host) and registers it as binfmt entry
pyos-qemu-aarch64 with flags OPF, disabling other enabled aarch64 entries (such as binfmt-support's
qemu-aarch64); it falls back to apt-get installing qemu-user-static + binfmt-support. Registrations do not
survive a reboot: every arm64 run checks and re-registers. Debootstrap's emulated second stage runs perl over
the whole Packages list for each package (over an hour for sid); the list is cut to the chosen packages first.

CLI:
  interpreters.py provision NAME...|all   provision what is not cached; one line per NAME:
                                          "NAME: ready in N s (cached)" or "NAME: provisioned in N s"
  interpreters.py path NAME               print the host path of NAME's python (3.13t); for chroot-based
                                          interpreters prints nothing and exits 1: use `run`
  interpreters.py run NAME -- CMD ARGS... run CMD with NAME (provisioning it first if needed); `python` as
                                          CMD means that interpreter; cwd is kept; exit status passed through
  interpreters.py list                    "NAME cached|not-cached (details)" per offered NAME
  interpreters.py remove NAME             delete NAME from the cache

Python API (import scripts/interpreters.py as a module):
  OFFERED                      the names offered, in order
  cache_root() -> Path         $PYOS_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/pyos
  is_cached(name) -> bool
  provision(name) -> float     seconds taken (near 0 when cached)
  python_path(name) -> Path | None            the host path of the python (3.13t only)
  command_prefix(name, python=None) -> list[str] | None
                               argv prefix that runs NAME's python (or, in a root, the executable python) from
                               the host, e.g. [".../3.13t/bin/python3.13t"] or [sys.executable, this file, "run",
                               "3.14", "--", "python3.14"]; None when NAME is not cached
  run(name, argv, cwd=None) -> int            exit status (128+N for signal N)

Cache layout ($PYOS_CACHE): NAME/ is a finished interpreter (a root, or the 3.13t prefix), recognised by its
NAME/.pyos-interp.json; it is only ever made by renaming a finished build from .tmp/ into place, so an
interrupted run leaves at most a .tmp/NAME.* that the next provision deletes. .locks/ holds flock files: a
provision of NAME is exclusive, a `run` holds a shared lock. .apt/ holds private apt lists (host apt untouched).
Logs of long steps: .logs/NAME.log.

Chroot runs: each `run` happens in its own private mount namespace (unshare(CLONE_NEWNS) in a forked child),
so its mounts (/proc, /dev rbind incl. /dev/pts, /sys rbind, the repo, GOROOT ro, GOMODCACHE, GOCACHE, the CA
bundle and local paths named by PIP_* vars, $PYOS_BINDS) are never visible on the host and vanish when the
command ends, whatever way it ends; concurrent runs do not see each other's mounts. After each run the parent
checks /proc/mounts anyway. The environment inside is clean: HOME=/root, PATH=GOROOT/bin:std dirs, plus the
host's GO*, CGO_*, PIP_*, PYTEST_*, HYPOTHESIS_*, proxy, CA and locale variables and any named in $PYOS_PASSENV
(space/comma separated). /etc/resolv.conf is copied in. In the arm64 roots GOARCH=arm64 and CGO_ENABLED=1 are
set unless given: the bind-mounted amd64 Go runs natively, the arm64 gcc under qemu.

Environment: PYOS_CACHE, XDG_CACHE_HOME, PYOS_DEBIAN_MIRROR (default: the host's apt sources' Debian URI),
PYOS_BINDS (extra host paths bound at the same path inside roots, colon separated), PYOS_PASSENV, PYOS_JOBS
(make -j, default: nproc).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

MARKER = ".pyos-interp.json"
SELF = Path(__file__).resolve()
REPO = SELF.parent.parent
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
STD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Chroot-based interpreters. `required` must all be in one suite (tried in order); `optional` are added when the
# chosen suite has them. `links` are symlinks made in /usr/local/bin of the root (name -> target).
CHROOTS: dict[str, dict[str, Any]] = {
    "3.14": {
        "arch": "amd64",
        "suites": ["sid", "forky"],
        "python": "python3.14",
        "required": ["python3.14", "python3.14-venv", "python3.14-dev", "gcc", "libc6-dev", "ca-certificates"],
        "optional": [],
        "links": {"python3": "/usr/bin/python3.14", "python": "/usr/bin/python3.14"},
    },
    "arm64": {
        "arch": "arm64",
        "suites": ["sid", "forky"],
        "python": "python3",
        "required": ["python3", "python3-venv", "python3-dev", "gcc", "libc6-dev", "ca-certificates"],
        "optional": [
            "python3.13",
            "python3.13-venv",
            "python3.13-dev",
            "python3.14",
            "python3.14-venv",
            "python3.14-dev",
            "python3.15",
            "python3.15-venv",
            "python3.15-dev",
        ],
        "links": {"python": "/usr/bin/python3"},
    },
    "arm64-3.11": {
        "arch": "arm64",
        "suites": ["bookworm"],
        "python": "python3",
        "required": ["python3.11", "python3", "python3-venv", "python3-dev", "gcc", "libc6-dev", "ca-certificates"],
        "optional": [],
        "links": {"python": "/usr/bin/python3"},
    },
}
SOURCE_BUILDS: dict[str, dict[str, Any]] = {
    "3.13t": {
        "srcpkg": "python3.13",
        "suites": ["trixie", "forky", "sid"],
        "exe": "python3.13t",
        # no test suite or test modules: a smaller prefix and a shorter `make install`
        "configure": ["--disable-gil", "--disable-test-modules"],
        # Debian package -> what it enables in the build
        "build_deps": [
            "gcc",
            "make",
            "pkg-config",
            "xz-utils",
            "libffi-dev",
            "libssl-dev",
            "zlib1g-dev",
            "libbz2-dev",
            "liblzma-dev",
            "libsqlite3-dev",
            "libreadline-dev",
            "libncurses-dev",
            "libgdbm-dev",
            "uuid-dev",
        ],
        "check_modules": [
            "ctypes",
            "ssl",
            "zlib",
            "bz2",
            "lzma",
            "sqlite3",
            "readline",
            "venv",
            "ensurepip",
            "hashlib",
            "_decimal",
            "curses",
            "uuid",
        ],
    },
}
OFFERED = ["3.14", "3.13t", "arm64", "arm64-3.11"]


class Error(Exception):
    """A failure explained in one line."""


# ---------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def echo(cmd: list[str], suffix: str = "") -> None:
    log("+ " + shlex.join(cmd) + suffix)


def sh(
    cmd: list[str],
    *,
    logfile: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    check: bool = True,
) -> int:
    """Run and echo a command; with logfile its output goes there (tail shown on failure)."""
    if logfile is None:
        echo(cmd)
        rc = subprocess.call(cmd, env=env, cwd=cwd)
    else:
        echo(cmd, f"  >> {logfile}")
        logfile.parent.mkdir(parents=True, exist_ok=True)
        with open(logfile, "ab") as f:
            f.write(("\n+ " + shlex.join(cmd) + "\n").encode())
            f.flush()
            rc = subprocess.call(cmd, env=env, cwd=cwd, stdout=f, stderr=subprocess.STDOUT)
        if rc and check:
            tail = logfile.read_text(errors="replace").splitlines()[-25:]
            log("\n".join("  | " + line for line in tail))
    if check and rc:
        raise Error(f"command failed (exit {rc}): {shlex.join(cmd)}" + (f" (log: {logfile})" if logfile else ""))
    return rc


def capture(cmd: list[str], *, quiet: bool = False) -> str:
    if not quiet:
        echo(cmd)
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        raise Error(f"command failed (exit {res.returncode}): {shlex.join(cmd)}: {res.stderr.strip()[-300:]}")
    return res.stdout


def need_root(what: str) -> None:
    if os.geteuid() != 0:
        raise Error(f"{what} needs root (apt-get, chroot, mount); run this as root")


def cache_root() -> Path:
    env = os.environ.get("PYOS_CACHE")
    if env:
        return Path(env).absolute()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg).absolute() / "pyos"


def interp_dir(name: str) -> Path:
    return cache_root() / name


def is_cached(name: str) -> bool:
    return (interp_dir(name) / MARKER).is_file()


def info(name: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((interp_dir(name) / MARKER).read_text())
        return data
    except (OSError, ValueError):
        return {}


@contextlib.contextmanager
def locked(name: str, shared: bool = False) -> Iterator[None]:
    d = cache_root() / ".locks"
    d.mkdir(parents=True, exist_ok=True)
    with open(d / f"{name}.lock", "a+") as f:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(f, mode | fcntl.LOCK_NB)
        except OSError:
            log(f"waiting for the lock on {name} ({d / (name + '.lock')})")
            fcntl.flock(f, mode)
        yield


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below path, deepest first (as the host sees them)."""
    p = str(path).rstrip("/")
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == p or mp.startswith(p + "/"):
                found.append(mp)
    return sorted(found, key=len, reverse=True)


def safe_rmtree(path: Path) -> None:
    """rm -rf that first unmounts anything mounted below path and never crosses into another filesystem."""
    if not path.exists() and not path.is_symlink():
        return
    for mp in mounts_under(path):
        sh(["umount", "-l", mp], check=False)
    left = mounts_under(path)
    if left:
        raise Error(f"refusing to delete {path}: still mounted there: {', '.join(left)}")
    sh(["rm", "-rf", "--one-file-system", str(path)])


def fresh_tmp(name: str) -> Path:
    """A new build dir in the cache (same filesystem as the final place), after deleting stale ones of NAME."""
    tmpdir = cache_root() / ".tmp"
    tmpdir.mkdir(parents=True, exist_ok=True)
    for stale in tmpdir.glob(f"{name}.*"):
        log(f"removing a leftover of an interrupted provision: {stale}")
        safe_rmtree(stale)
    return Path(tempfile.mkdtemp(prefix=f"{name}.", dir=tmpdir))


def publish(tmp: Path, name: str, meta: dict[str, Any]) -> None:
    """Write the marker and rename tmp into place: the only way a cached interpreter comes to exist."""
    (tmp / MARKER).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    final = interp_dir(name)
    if final.exists():  # an unfinished one (no marker) cannot normally exist; clear it
        safe_rmtree(final)
    os.rename(tmp, final)


def du(path: Path) -> int:
    """Bytes allocated below path (one filesystem, hard links counted once)."""
    total, seen = 0, set()
    dev = path.stat().st_dev
    for dirpath, dirnames, filenames in os.walk(path):
        for n in filenames + dirnames:
            try:
                st = os.lstat(os.path.join(dirpath, n))
            except OSError:
                continue
            if st.st_dev == dev and (st.st_ino not in seen):
                seen.add(st.st_ino)
                total += st.st_blocks * 512
    return total


# ---------------------------------------------------------------- host packages, apt


def dpkg_installed() -> set[str]:
    """Installed package names (read from dpkg's status file: no command)."""
    names: set[str] = set()
    try:
        text = Path("/var/lib/dpkg/status").read_text(errors="replace")
    except OSError:
        return names
    for stanza in text.split("\n\n"):
        m = re.search(r"^Package: (\S+)", stanza, re.M)
        if m and re.search(r"^Status: install ok installed", stanza, re.M):
            names.add(m.group(1))
    return names


def ensure_host_packages(pkgs: list[str]) -> None:
    """apt-get install what is missing; apt-get update first only if that fails."""
    installed = dpkg_installed()
    missing = [p for p in pkgs if p not in installed]
    if not missing:
        return
    need_root(f"installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if sh(cmd, env=env, check=False):
        sh(["apt-get", "update"], env=env)
        sh(cmd, env=env)


def debian_mirror() -> str:
    """The Debian archive URI of the host's apt sources ($PYOS_DEBIAN_MIRROR overrides)."""
    env = os.environ.get("PYOS_DEBIAN_MIRROR")
    if env:
        return env.rstrip("/")
    files = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    uris: list[str] = []
    for f in files:
        if not f.is_file() or f.suffix not in (".list", ".sources"):
            continue
        text = f.read_text(errors="replace")
        if f.suffix == ".sources":
            for stanza in text.split("\n\n"):
                fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.M))
                if "deb" in fields.get("Types", "").split() and fields.get("Enabled", "yes") != "no":
                    suites = fields.get("Suites", "").split()
                    if any("security" in s for s in suites):
                        continue
                    uris += fields.get("URIs", "").split()
        else:
            for line in text.splitlines():
                m = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
                if m and "security" not in m.group(2):
                    uris.append(m.group(1))
    for u in uris:
        if re.search(r"/debian/?$", u) and "security" not in u:
            return u.rstrip("/")
    return "http://deb.debian.org/debian"


class PrivateApt:
    """apt-get/apt-cache on a private sources list and private lists/cache dirs (the host's apt is untouched)."""

    def __init__(self, tag: str, lines: list[str], arch: str | None = None) -> None:
        self.dir = cache_root() / ".apt" / tag
        self.lists = self.dir / "lists"
        self.cache = self.dir / "cache"
        (self.lists / "partial").mkdir(parents=True, exist_ok=True)
        (self.cache / "archives" / "partial").mkdir(parents=True, exist_ok=True)
        self.sources = self.dir / "sources.list"
        self.sources.write_text("\n".join(lines) + "\n")
        self.opts = [
            "-o",
            f"Dir::Etc::sourcelist={self.sources}",
            "-o",
            "Dir::Etc::sourceparts=/nonexistent",
            "-o",
            f"Dir::State::Lists={self.lists}",
            "-o",
            f"Dir::Cache={self.cache}",
            "-o",
            "Acquire::Languages=none",
            "-o",
            "APT::Sandbox::User=root",
        ]
        if arch:
            self.opts += ["-o", f"APT::Architecture={arch}", "-o", f"APT::Architectures={arch}"]

    def __enter__(self) -> PrivateApt:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Delete the private lists (up to ~100 MB each; only needed while provisioning)."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def update(self) -> None:
        sh(["apt-get", *self.opts, "-q", "update"], logfile=cache_root() / ".logs" / "apt-update.log")

    def madison(self, pkgs: list[str]) -> list[tuple[str, str, str, str]]:
        """(package, version, suite, 'Packages'|'Sources') per available version."""
        out = capture(["apt-cache", *self.opts, "madison", *pkgs])
        rows = []
        for line in out.splitlines():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) == 3:
                where = parts[2].split()
                suite = where[1].split("/")[0] if len(where) > 1 else "?"
                rows.append((parts[0], parts[1], suite, where[-1]))
        return rows


def version_key(v: str) -> list[Any]:
    """A rough Debian version sort key (enough for python3.X upstream-debian revisions)."""
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", v)]


# ---------------------------------------------------------------- mount namespaces and chroots

_libc: Any = None


def libc() -> Any:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        _libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    return _libc


MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
CLONE_NEWNS = 0x00020000


def _mount(src: str | None, dst: str, fstype: str | None, flags: int) -> None:
    if libc().mount(src and src.encode(), dst.encode(), fstype and fstype.encode(), flags, None) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"mount {src} on {dst}: {os.strerror(e)}")


def _private_namespace() -> None:
    if libc().unshare(CLONE_NEWNS) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"unshare(CLONE_NEWNS): {os.strerror(e)}")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)


def _bind(src: str, root: Path, dst: str | None = None, *, rec: bool = False, ro: bool = False) -> None:
    target = str(root) + (dst or src)
    if os.path.isdir(src):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.lexists(target):
            open(target, "a").close()
        elif os.path.islink(target):  # do not follow a symlink in the root to a host path
            os.unlink(target)
            open(target, "a").close()
    _mount(src, target, None, MS_BIND | (MS_REC if rec else 0))
    if ro:
        _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY)


def _wait(pid: int) -> int:
    """Wait for a child; SIGINT/SIGTERM go to the child (same process group) and are waited out here."""
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
    finally:
        signal.signal(signal.SIGINT, old)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def in_namespace(setup: Any, argv: list[str], env: dict[str, str], logfile: Path | None = None) -> int:
    """Fork; the child gets a private mount namespace, runs setup() (mounts, chroot, chdir), then execs argv.

    Mounts made there never reach the host and vanish when the child (and its children) end, however they end.
    """
    out = None
    if logfile is not None:
        logfile.parent.mkdir(parents=True, exist_ok=True)
        out = open(logfile, "ab")  # noqa: SIM115 - the child dups it; closed below
        out.write(("\n+ " + shlex.join(argv) + "\n").encode())
        out.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            if out is not None:
                os.dup2(out.fileno(), 1)
                os.dup2(out.fileno(), 2)
            _private_namespace()
            setup()
            os.execvpe(argv[0], argv, env)
        except BaseException as e:  # report anything, then leave without running cleanup handlers
            try:
                os.write(2, f"error: {e}\n".encode())
            finally:
                os._exit(127)
    if out is not None:
        out.close()
    return _wait(pid)


# The host's Go settings that a root's Go must share (GOROOT is bound, not passed).
GO_SETTINGS = (
    "GOMODCACHE",
    "GOCACHE",
    "GOPATH",
    "GOPROXY",
    "GOFLAGS",
    "GOSUMDB",
    "GONOSUMDB",
    "GOPRIVATE",
    "GONOPROXY",
    "GOINSECURE",
    "GOTOOLCHAIN",
)


def host_go_env() -> dict[str, str]:
    go = shutil.which("go")
    if not go:
        return {}
    try:
        data: dict[str, str] = json.loads(capture([go, "env", "-json", "GOROOT", *GO_SETTINGS], quiet=True))
    except (Error, ValueError):
        return {}
    return {k: v for k, v in data.items() if v}


PASS_PREFIXES = ("GO", "CGO_", "PIP_", "PYTEST_", "HYPOTHESIS_", "PYOS_")
PASS_NAMES = {
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "CI",
    "TERM",
    "LANG",
    "LC_ALL",
    "LANGUAGE",
    "TZ",
    "SOURCE_DATE_EPOCH",
    "PYTHONHASHSEED",
    "PYTHONFAULTHANDLER",
    "PYTHONDEVMODE",
    "PYTHONWARNINGS",
    "NO_COLOR",
    "FORCE_COLOR",
    "COLUMNS",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
}
NO_PASS = {"GOROOT", "GOBIN", "GOARCH", "GOOS", "GOEXE", "GOHOSTARCH", "GOHOSTOS"}  # GOARCH via $PYOS_PASSENV


def chroot_env(name: str, go: dict[str, str]) -> dict[str, str]:
    extra = set(re.split(r"[\s,]+", os.environ.get("PYOS_PASSENV", "").strip())) - {""}
    env = {
        k: v
        for k, v in os.environ.items()
        if (k.startswith(PASS_PREFIXES) and k not in NO_PASS) or k in PASS_NAMES or k in extra
    }
    for k in GO_SETTINGS:
        if k in go:
            env.setdefault(k, go[k])
    path = STD_PATH
    if "GOROOT" in go:
        env["GOROOT"] = go["GOROOT"]
        path = go["GOROOT"] + "/bin:" + path
    env.update(HOME="/root", PATH=path, USER="root", LOGNAME="root")
    env.setdefault("LANG", "C.UTF-8")
    env.setdefault("TERM", "dumb")
    if CHROOTS[name]["arch"] == "arm64":
        env.setdefault("GOARCH", "arm64")
        env.setdefault("CGO_ENABLED", "1")
    return env


SYSTEM_DIRS = (
    "/proc",
    "/sys",
    "/dev",
    "/usr",
    "/etc",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/boot",
    "/run",
    "/var/lib",
    "/var/cache",
    "/var/log",
)


def _bindable(p: str) -> bool:
    """Whether a host path may be bound over the same path in a root: not /, /root, /tmp (or any other top-level
    dir), nor a system dir."""
    return p.count("/") >= 2 and not any(p == d or p.startswith(d + "/") for d in SYSTEM_DIRS)


def chroot_binds(env: dict[str, str], go: dict[str, str], cwd: str) -> list[tuple[str, bool]]:
    """(host path, read-only) pairs bound at the same path inside a root."""
    binds: list[tuple[str, bool]] = [(str(REPO), False)]
    if "GOROOT" in go:
        binds.append((go["GOROOT"], True))
    for k in ("GOMODCACHE", "GOCACHE"):
        if k in go:
            os.makedirs(go[k], exist_ok=True)
            binds.append((go[k], False))
    for k, v in env.items():  # local paths in PIP_FIND_LINKS, PIP_CERT, SSL_CERT_FILE, ...
        if k.startswith("PIP_") or k in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            for word in re.split(r"[\s]+", v):
                if word.startswith("/") and os.path.exists(word) and _bindable(word):
                    binds.append((word, True))
    for p in os.environ.get("PYOS_BINDS", "").split(":"):
        if p.startswith("/") and os.path.exists(p):
            binds.append((os.path.realpath(p), False))
    covered = [b for b, _ in binds]
    if _bindable(cwd) and not any(cwd == b or cwd.startswith(b.rstrip("/") + "/") for b in covered):
        binds.append((cwd, False))
    out: list[tuple[str, bool]] = []
    for b, ro in binds:
        if not any(b == o for o, _ in out):
            out.append((b, ro))
    return sorted(out, key=lambda x: len(x[0]))  # parents before children


def chroot_setup(root: Path, binds: list[tuple[str, bool]], cwd: str) -> Any:
    def setup() -> None:
        r = str(root)
        _mount("proc", r + "/proc", "proc", 0)
        _bind("/dev", root, rec=True)
        _bind("/sys", root, rec=True)
        for src, ro in binds:
            _bind(src, root, ro=ro)
        if os.path.isfile(HOST_CA) and os.path.isdir(r + "/etc/ssl/certs"):
            _bind(HOST_CA, root, ro=True)
        os.chroot(r)
        try:
            os.chdir(cwd)
        except OSError:
            os.chdir("/")

    return setup


def copy_host_files(root: Path) -> None:
    for f in ("/etc/resolv.conf",):
        dst = Path(str(root) + f)
        try:
            data = Path(f).read_bytes()
        except OSError:
            continue
        if dst.is_symlink():
            dst.unlink()
        if not dst.exists() or dst.read_bytes() != data:
            dst.write_bytes(data)


def chroot_exec(name: str, argv: list[str], cwd: str | None = None) -> int:
    need_root(f"running in the {name} root")
    spec = CHROOTS[name]
    root = interp_dir(name)
    ensure_binfmt(spec["arch"])
    cwd = cwd or os.getcwd()
    go = host_go_env()
    env = chroot_env(name, go)
    binds = chroot_binds(env, go, cwd)
    copy_host_files(root)
    if argv and argv[0] == "python":
        argv = [spec["python"], *argv[1:]]
    log(f"+ [chroot {root}, cwd {cwd}] " + shlex.join(argv))
    rc = in_namespace(chroot_setup(root, binds, cwd), argv, env)
    leaked = mounts_under(root)
    if leaked:  # cannot happen with a private namespace; be defensive all the same
        log(f"warning: mounts left under {root}: {leaked}; unmounting")
        for mp in leaked:
            sh(["umount", "-l", mp], check=False)
    return rc


def host_arch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


QEMU_ARCH = {"arm64": "aarch64"}
BINFMT_MAGIC = {
    "arm64": (
        r"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00",
        r"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff",
    ),
}
# Debian suites whose qemu-user package ships static binaries (>= 9.1), in order of preference
QEMU_SUITES = ["trixie", "forky", "sid"]
BINFMT = Path("/proc/sys/fs/binfmt_misc")


def cached_qemu(arch: str) -> Path | None:
    """A recent static qemu-user for ARCH, taken from Debian's qemu-user package into the cache.

    Bookworm's qemu-user-static (7.2) runs Python code ~8x slower than trixie's qemu-user (10.0), which is static
    and depends on nothing, so its binary is used from the cache without installing it on the host.
    Returns the `<arch>-binfmt-P` link to register (its name makes qemu honour the P flag), or None.
    """
    qarch = QEMU_ARCH[arch]
    d = cache_root() / ".qemu"
    link = d / f"{qarch}-binfmt-P"
    if link.exists():
        return link
    mirror = debian_mirror()
    try:
        with PrivateApt(
            "qemu", [f"deb [arch={host_arch()}] {mirror} {s} main" for s in QEMU_SUITES], host_arch()
        ) as apt:
            apt.update()
            rows = apt.madison(["qemu-user"])
            best = None
            for suite in QEMU_SUITES:
                for _p, ver, s, kind in rows:
                    m = re.match(r"(?:\d+:)?(\d+)\.(\d+)", ver)
                    if s == suite and kind == "Packages" and m and (int(m.group(1)), int(m.group(2))) >= (9, 1):
                        best = best or ver
            if best is None:
                log(f"no Debian suite of {mirror} has a static qemu-user (>= 9.1)")
                return None
            d.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=d) as tmp:
                sh(["apt-get", *apt.opts, "-q", "download", f"qemu-user={best}"], cwd=tmp)
                deb = next(Path(tmp).glob("qemu-user_*.deb"))
                sh(["dpkg-deb", "-x", str(deb), f"{tmp}/x"])
                exe = Path(tmp) / "x/usr/bin" / f"qemu-{qarch}"
                capture([str(exe), "--version"])  # it runs on this host
                os.rename(exe, d / f"qemu-{qarch}")
        tmp_link = d / f".{link.name}.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp_link.unlink()
        tmp_link.symlink_to(f"qemu-{qarch}")
        os.rename(tmp_link, link)
        return link
    except (Error, OSError, StopIteration) as e:
        log(f"could not take qemu-user from Debian ({e}); falling back to the host's qemu-user-static")
        return None


def _entries_for(arch: str) -> dict[str, str]:
    """Registered binfmt_misc entries (name -> text) for ARCH's ELF magic."""
    magic = BINFMT_MAGIC[arch][0].encode().decode("unicode_escape").encode("latin-1").hex()
    found = {}
    for e in BINFMT.iterdir():
        if e.name in ("register", "status"):
            continue
        with contextlib.suppress(OSError):
            text = e.read_text()
            if f"magic {magic}" in text:
                found[e.name] = text
    return found


def ensure_binfmt(arch: str) -> None:
    """Make the kernel run ARCH binaries, where ARCH is foreign, through a static qemu with the F flag (so that it
    works inside chroots).

    Registers the cached recent qemu (cached_qemu) as binfmt_misc entry pyos-qemu-<arch> and disables other
    enabled entries for the same magic (e.g. binfmt-support's qemu-aarch64, which would take precedence);
    falls back to installing qemu-user-static + binfmt-support. Registrations are lost on reboot: every run
    checks (a few file reads) and re-registers.
    """
    if arch == host_arch():
        return
    qarch = QEMU_ARCH[arch]
    ours = f"pyos-qemu-{qarch}"
    link = cache_root() / ".qemu" / f"{qarch}-binfmt-P"
    if (BINFMT / "status").exists():
        entries = _entries_for(arch)
        enabled = [n for n, t in entries.items() if t.startswith("enabled")]
        if (enabled == [ours] and re.search(r"^flags:.*F", entries[ours], re.M) and link.exists()) or (
            (link.parent / "unavailable").exists() and any(re.search(r"^flags:.*F", entries[n], re.M) for n in enabled)
        ):
            return
    need_root("registering qemu with binfmt_misc")
    if not (BINFMT / "register").exists():
        sh(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)])
    qemu = cached_qemu(arch)
    magic, mask = BINFMT_MAGIC[arch]
    if qemu is not None:
        for name, text in _entries_for(arch).items():
            if name == ours and f"interpreter {qemu}\n" in text:
                continue
            if name == ours:
                log(f"+ echo -1 > {BINFMT / name}")
                (BINFMT / name).write_text("-1")
            elif text.startswith("enabled"):
                log(f"+ echo 0 > {BINFMT / name}  # disable: {ours} runs {qarch} binaries")
                (BINFMT / name).write_text("0")
        if not (BINFMT / ours).exists():
            line = f":{ours}:M::{magic}:{mask}:{qemu}:OPF"
            log(f"+ echo '{line}' > {BINFMT / 'register'}")
            (BINFMT / "register").write_text(line)
    else:
        link.parent.mkdir(parents=True, exist_ok=True)
        (link.parent / "unavailable").write_text("no static qemu-user could be taken from Debian; remove to retry\n")
        ensure_host_packages(["qemu-user-static", "binfmt-support"])
        name = f"qemu-{qarch}"
        if not (BINFMT / name).exists():
            sh(["update-binfmts", "--enable", name], check=False)
        if not (BINFMT / name).exists():
            line = f":{name}:M::{magic}:{mask}:/usr/bin/qemu-{qarch}-static:F"
            log(f"+ echo '{line}' > {BINFMT / 'register'}")
            (BINFMT / "register").write_text(line)
    now = {n: t for n, t in _entries_for(arch).items() if t.startswith("enabled")}
    if not any(re.search(r"^flags:.*F", t, re.M) for t in now.values()):
        raise Error(f"could not register a qemu for {arch} with binfmt_misc (enabled entries: {list(now) or 'none'})")


# ---------------------------------------------------------------- provisioning: chroot roots


def _pick_suite(name: str, spec: dict[str, Any], mirror: str) -> list[tuple[str, list[str]]]:
    """Suites (in preference order) that have all required packages, each with the optional ones it has."""
    arch = spec["arch"]
    with PrivateApt(f"{name}-bin", [f"deb [arch={arch}] {mirror} {s} main" for s in spec["suites"]], arch) as apt:
        apt.update()
        rows = apt.madison(spec["required"] + spec["optional"])
    have: dict[str, set[str]] = {s: set() for s in spec["suites"]}
    for pkg, _ver, suite, kind in rows:
        if kind == "Packages" and suite in have:
            have[suite].add(pkg)
    ok = []
    for s in spec["suites"]:
        if set(spec["required"]) <= have[s]:
            ok.append((s, [p for p in spec["optional"] if p in have[s]]))
    if not ok:
        missing = [p for p in spec["required"] if p not in have[spec["suites"][0]]]
        others = "; ".join(
            f"{s} lacks {' '.join(p for p in spec['required'] if p not in have[s])}" for s in spec["suites"][1:]
        )
        raise Error(
            f"Debian {spec['suites'][0]} ({arch}) has no {' '.join(missing)} package any more"
            + (f" ({others})" if others else "")
            + f"; the {name} interpreter cannot be provisioned from {mirror}"
        )
    return ok


def _debootstrap_script(suite: str) -> str | None:
    """debootstrap's script for suite, or sid's when this debootstrap is too old to know the suite."""
    d = Path("/usr/share/debootstrap/scripts")
    if (d / suite).exists():
        return None
    return str(d / "sid")


def provision_chroot(name: str) -> tuple[Path, dict[str, Any]]:
    spec = CHROOTS[name]
    need_root(f"provisioning {name}")
    ensure_host_packages(["debootstrap"])
    foreign = spec["arch"] != host_arch()
    ensure_binfmt(spec["arch"])
    mirror = debian_mirror()
    candidates = _pick_suite(name, spec, mirror)
    logfile = cache_root() / ".logs" / f"{name}.log"
    last: Error | None = None
    for suite, optional in candidates:
        tmp = fresh_tmp(name)
        root = tmp
        try:
            pkgs = spec["required"] + optional
            cmd = ["debootstrap", f"--arch={spec['arch']}", "--variant=minbase", "--include=" + ",".join(pkgs)]
            if foreign:
                cmd.append("--foreign")
            cmd += [suite, str(root), mirror]
            script = _debootstrap_script(suite)
            if script:
                cmd.append(script)
            echo(cmd, f"  >> {logfile}  [private mount namespace]")
            rc = in_namespace(lambda: None, cmd, dict(os.environ), logfile)
            if rc == 0 and foreign:
                _trim_package_lists(root)
                cmd2 = ["/debootstrap/debootstrap", "--second-stage"]
                log(f"+ [chroot {root}] {shlex.join(cmd2)}  >> {logfile}  (emulated: slow)")
                env = {"PATH": STD_PATH, "HOME": "/root", "LANG": "C.UTF-8"}
                rc = in_namespace(chroot_setup(root, [], "/"), cmd2, env, logfile)
            if rc in (128 + signal.SIGINT, 128 + signal.SIGTERM):
                raise KeyboardInterrupt
            if rc:
                tail = logfile.read_text(errors="replace").splitlines()[-15:]
                log("\n".join("  | " + line for line in tail))
                raise Error(f"debootstrap of Debian {suite} for {name} failed (exit {rc}; log: {logfile})")
            _finish_root(name, spec, root)
            meta = _root_versions(name, spec, root, logfile)
            meta.update(kind="chroot", suite=suite, arch=spec["arch"], mirror=mirror, packages=pkgs)
            return tmp, meta
        except Error as e:
            last = e
            safe_rmtree(tmp)
            if suite != candidates[-1][0]:
                log(f"{e}; trying the next suite")
        except BaseException:
            safe_rmtree(tmp)
            raise
    assert last is not None
    raise last


def _trim_package_lists(root: Path) -> None:
    """Cut the Packages lists in a --foreign root down to the packages the first stage chose.

    The second stage runs emulated, and for every package it runs perl over the whole list (64 MB for sid):
    ~40 s each, over an hour in all. With only the chosen packages' stanzas left, it takes minutes.
    """
    want: set[str] = set()
    for f in ("required", "base"):
        p = root / "debootstrap" / f
        if p.exists():
            want.update(p.read_text().split())
    if not want:
        return
    for lst in (root / "var/lib/apt/lists").glob("*_Packages"):
        text = lst.read_text(errors="surrogateescape")
        keep = [st for st in text.split("\n\n") if (m := re.match(r"Package: (\S+)", st)) and m.group(1) in want]
        log(f"trimming {lst.name} to the {len(keep)} packages chosen (of {text.count('Package: ')})")
        lst.write_text("\n\n".join(keep) + "\n\n", errors="surrogateescape")


def _finish_root(name: str, spec: dict[str, Any], root: Path) -> None:
    bindir = root / "usr/local/bin"
    bindir.mkdir(parents=True, exist_ok=True)
    for link, target in spec["links"].items():
        p = bindir / link
        if not (root / target.lstrip("/")).exists() and not (root / target.lstrip("/")).is_symlink():
            raise Error(f"{name}: {target} missing in the new root")
        if p.is_symlink() or p.exists():
            p.unlink()
        p.symlink_to(target)
    # apt's download cache is of no use later
    for deb in (root / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()
    for f in (root / "var/lib/apt/lists").glob("*_*"):
        if f.is_file():
            f.unlink()
    (root / "root").mkdir(exist_ok=True)


def _root_versions(name: str, spec: dict[str, Any], root: Path, logfile: Path) -> dict[str, Any]:
    """Check the root's pythons (ssl, ctypes, venv with ensurepip) and note versions."""
    out = root / "tmp" / "pyos-versions.json"
    pythons = sorted({p for p in spec["required"] + spec["optional"] if re.fullmatch(r"python3(\.\d+)?", p)})
    pythons = [p for p in pythons if (root / "usr/bin" / p).exists()]
    # python3 is a symlink to one of the python3.X: check each binary once
    real = {p: os.path.basename(os.path.realpath(root / "usr/bin" / p)) for p in pythons}
    pythons = [p for p in pythons if real[p] == p or real[p] not in pythons]
    main = real.get(spec["python"], spec["python"])
    # venv with pip (ensurepip) for the main python only: under emulation it takes ~1.5 min each
    script = (
        "import json, os, platform, subprocess, sys, tempfile\n"
        "res = {'pythons': {}}\n"
        f"for py in {pythons!r}:\n"
        "    code = ('import sys, ssl, ctypes, sqlite3, zlib, bz2, lzma, venv, ensurepip; '\n"
        "            'print(sys.version.split()[0])')\n"
        "    v = subprocess.run([py, '-c', code], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()\n"
        "    d = tempfile.mkdtemp()\n"
        f"    if py == {main!r}:\n"
        "        subprocess.run([py, '-m', 'venv', d + '/v'], check=True)\n"
        "        subprocess.run([d + '/v/bin/python', '-m', 'pip', '--version'], check=True,\n"
        "                       stdout=subprocess.DEVNULL)\n"
        "    else:\n"
        "        subprocess.run([py, '-m', 'venv', '--without-pip', d + '/v'], check=True)\n"
        "    subprocess.run(['rm', '-rf', d], check=True)\n"
        "    res['pythons'][py] = v\n"
        "res['glibc'] = os.confstr('CS_GNU_LIBC_VERSION').split()[-1]\n"
        "res['gcc'] = subprocess.run(['gcc', '-dumpfullversion'], stdout=subprocess.PIPE, text=True).stdout.strip()\n"
        "res['machine'] = platform.machine()\n"
        "open('/tmp/pyos-versions.json', 'w').write(json.dumps(res))\n"
    )
    log(f"checking the pythons in the new {name} root (ssl, ctypes, sqlite3, venv + ensurepip)")
    rc = in_namespace(
        chroot_setup(root, [], "/"),
        [pythons[0], "-c", script],
        {"PATH": STD_PATH, "HOME": "/root", "LANG": "C.UTF-8"},
        logfile,
    )
    if rc:
        raise Error(f"the pythons of the new {name} root fail their check (exit {rc}; log: {logfile})")
    data: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    return data


# ---------------------------------------------------------------- provisioning: source builds


def download_newest_source(name: str, spec: dict[str, Any], build: Path, logfile: Path) -> str:
    """Download into build the newest of spec's source packages that the mirror serves; return its version."""
    mirror = debian_mirror()
    srcpkg = spec["srcpkg"]
    with PrivateApt("src", [f"deb-src {mirror} {s} main" for s in spec["suites"]]) as apt:
        apt.update()
        versions = sorted(
            {v for p, v, _s, kind in apt.madison([srcpkg]) if p == srcpkg and kind == "Sources"},
            key=version_key,
            reverse=True,
        )
        if not versions:
            raise Error(
                f"Debian {'/'.join(spec['suites'])} have no {srcpkg} source package any more; "
                f"{name} cannot be built from {mirror}"
            )
        for v in versions:  # the newest whose files the mirror actually serves
            rc = sh(
                ["apt-get", *apt.opts, "-q", "source", "--download-only", f"{srcpkg}={v}"],
                cwd=build,
                logfile=logfile,
                check=False,
            )
            if rc == 0:
                return v
            for f in build.iterdir():
                f.unlink()
            log(f"{srcpkg} {v}: not downloadable from {mirror}; trying an older version")
    raise Error(
        f"none of Debian's {srcpkg} source packages ({', '.join(versions)}) can be downloaded "
        f"from {mirror} any more; {name} cannot be built"
    )


def provision_source(name: str) -> tuple[Path, dict[str, Any]]:
    spec = SOURCE_BUILDS[name]
    ensure_host_packages(spec["build_deps"])
    srcpkg = spec["srcpkg"]
    logfile = cache_root() / ".logs" / f"{name}.log"
    tmp = fresh_tmp(name)
    try:
        build = tmp / "build"
        build.mkdir()
        got = download_newest_source(name, spec, build, logfile)
        tarballs = list(build.glob(f"{srcpkg}_*.orig.tar.*"))
        tarballs = [t for t in tarballs if not t.name.endswith(".asc")]
        if not tarballs:
            raise Error(f"{srcpkg} {got}: no orig tarball in the source package")
        sh(["tar", "-xf", str(tarballs[0]), "-C", str(build)])
        srcdir = next(p for p in build.iterdir() if p.is_dir())
        final = interp_dir(name)
        stage = tmp / "stage"
        jobs = os.environ.get("PYOS_JOBS") or str(os.cpu_count() or 2)
        log(f"building CPython {got} ({' '.join(spec['configure'])}) into {final}: a few minutes")
        sh(["./configure", f"--prefix={final}", *spec["configure"]], cwd=srcdir, logfile=logfile)
        sh(["make", f"-j{jobs}"], cwd=srcdir, logfile=logfile)
        sh(["make", "install", f"DESTDIR={stage}"], cwd=srcdir, logfile=logfile)
        prefix = Path(str(stage) + str(final))
        exe = prefix / "bin" / spec["exe"]
        for link in ("python", "python3"):
            if not (prefix / "bin" / link).exists():
                (prefix / "bin" / link).symlink_to(spec["exe"])
        # Check it where it was built, then where it will live (the install does not depend on its path).
        check = (
            "import sys, json, importlib\n"
            f"for m in {spec['check_modules']!r}: importlib.import_module(m)\n"
            "assert not sys._is_gil_enabled(), 'the GIL is enabled'\n"
            "print(json.dumps({'python': sys.version.split()[0], 'gil_disabled': not sys._is_gil_enabled()}))\n"
        )
        meta: dict[str, Any] = json.loads(capture([str(exe), "-c", check]))
        vdir = tmp / "venv-check"
        sh([str(exe), "-m", "venv", str(vdir)])
        sh([str(vdir / "bin" / "python"), "-m", "pip", "--version"])
        meta.update(kind="prefix", debian_source=f"{srcpkg} {got}", exe=spec["exe"], configure=spec["configure"])
        # The installed prefix is what gets published: beside tmp, under a name fresh_tmp also clears.
        published = tmp.with_name(tmp.name + ".prefix")
        os.rename(prefix, published)
        safe_rmtree(tmp)
        return published, meta
    except BaseException:
        safe_rmtree(tmp)
        raise


# ---------------------------------------------------------------- API


def _check_name(name: str) -> None:
    if name not in OFFERED:
        hint = " (3.14t is not offered: no reachable registry serves CPython 3.14's sources)" if name == "3.14t" else ""
        raise Error(f"unknown interpreter {name!r}; offered: {', '.join(OFFERED)}{hint}")


def provision(name: str) -> float:
    """Provision NAME unless cached; return the seconds it took."""
    _check_name(name)
    t0 = time.monotonic()
    if is_cached(name):
        return time.monotonic() - t0
    with locked(name):
        if is_cached(name):  # someone else finished it while we waited
            return time.monotonic() - t0
        tmp, meta = provision_chroot(name) if name in CHROOTS else provision_source(name)
        try:
            meta.update(
                seconds=round(time.monotonic() - t0, 1), bytes=du(tmp), created=time.strftime("%Y-%m-%dT%H:%M:%S%z")
            )
            publish(tmp, name, meta)
        except BaseException:
            safe_rmtree(tmp)
            raise
    return time.monotonic() - t0


def python_path(name: str) -> Path | None:
    _check_name(name)
    if name in SOURCE_BUILDS and is_cached(name):
        exe: str = SOURCE_BUILDS[name]["exe"]
        return interp_dir(name) / "bin" / exe
    return None


def command_prefix(name: str, python: str | None = None) -> list[str] | None:
    _check_name(name)
    if not is_cached(name):
        return None
    exe = python_path(name)
    if exe is not None:
        return [str(exe)]
    return [sys.executable, str(SELF), "run", name, "--", python or CHROOTS[name]["python"]]


def run(name: str, argv: list[str], cwd: str | None = None) -> int:
    """Run argv with NAME (see the module docstring); provisions NAME first if needed. Returns the exit status."""
    _check_name(name)
    if not argv:
        raise Error("run: no command given")
    if not is_cached(name):
        log(f"{name} is not provisioned yet: provisioning it first")
        log(f"{name}: provisioned in {provision(name):.1f} s")
    with locked(name, shared=True):
        if name in CHROOTS:
            return chroot_exec(name, argv, cwd)
        exe = python_path(name)
        assert exe is not None
        env = dict(os.environ, PATH=f"{exe.parent}:{os.environ.get('PATH', STD_PATH)}")
        if argv[0] == "python":
            argv = [str(exe), *argv[1:]]
        echo(argv)
        try:
            proc = subprocess.Popen(argv, env=env, cwd=cwd)
        except OSError as e:
            raise Error(f"cannot run {argv[0]}: {e.strerror}") from None
        return _wait(proc.pid)


def remove(name: str) -> None:
    _check_name(name)
    with locked(name):
        safe_rmtree(interp_dir(name))
        for stale in (cache_root() / ".tmp").glob(f"{name}.*"):
            safe_rmtree(stale)


def describe(name: str) -> str:
    if not is_cached(name):
        return f"{name} not-cached"
    m = info(name)
    parts = []
    if m.get("kind") == "prefix":
        parts.append(f"python {m.get('python')}, {interp_dir(name) / 'bin' / m.get('exe', '')}")
    else:
        parts.append(", ".join(f"{k} {v}" for k, v in m.get("pythons", {}).items()))
        parts.append(f"gcc {m.get('gcc')}, glibc {m.get('glibc')}, Debian {m.get('suite')} {m.get('arch')}")
    if m.get("bytes"):
        parts.append(f"{m['bytes'] / 1e9:.2f} GB")
    return f"{name} cached ({'; '.join(parts)})"


# ---------------------------------------------------------------- CLI

USAGE = """usage: interpreters.py provision NAME...|all
       interpreters.py path NAME
       interpreters.py run NAME -- CMD [ARGS...]
       interpreters.py list
       interpreters.py remove NAME
NAME: """ + ", ".join(OFFERED)


def die(msg: str, code: int = 1) -> NoReturn:
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(code)


def main(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if args else 2
    cmd, rest = args[0], args[1:]
    if cmd == "provision":
        names = OFFERED if rest == ["all"] else rest
        if not names:
            die("provision: name at least one interpreter (or all)", 2)
        for n in names:
            _check_name(n)
        for n in names:
            cached = is_cached(n)
            s = provision(n)
            print(f"{n}: ready in {s:.1f} s (cached)" if cached else f"{n}: provisioned in {s:.0f} s", flush=True)
        return 0
    if cmd == "path":
        if len(rest) != 1:
            die("usage: interpreters.py path NAME", 2)
        _check_name(rest[0])
        p = python_path(rest[0])
        if p is None:
            if rest[0] in CHROOTS:
                die(f"{rest[0]} lives in a chroot; use: {SELF.name} run {rest[0]} -- python ...")
            die(f"{rest[0]} is not provisioned; use: {SELF.name} provision {rest[0]}")
        print(p)
        return 0
    if cmd == "run":
        if len(rest) < 3 or rest[1] != "--":
            die("usage: interpreters.py run NAME -- CMD [ARGS...]", 2)
        return run(rest[0], rest[2:])
    if cmd == "list":
        for n in OFFERED:
            print(describe(n))
        return 0
    if cmd == "remove":
        for n in rest:
            remove(n)
        return 0
    die(f"unknown command {cmd!r}\n{USAGE}", 2)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Error as e:
        die(str(e))
    except KeyboardInterrupt:
        die("interrupted", 130)
