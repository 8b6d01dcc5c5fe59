# make demo         the seed example ported to pyos, in a venv that holds only pyos
# make check        the edit-test loop: go vet, the Go unit tests, lint, pytest against the installed build
# make ci-config    the wheels workflow linted (actionlint) and its cibuildwheel selection checked
# make test         every Go and Python test, the emulated build and the release checks (CI runs it)
# make test-all     pytest (the seed example and the fork stress among its tests) on every x86_64 CPython of scripts/matrix.py
# make dist         the sdist and the wheels of scripts/matrix.py (abi3 x86_64 and aarch64, cp313t), in dist/
# make test-wheels  each wheel of dist/ in a fresh venv of every CPython it serves, then pytest
# make macos-wheels the macOS wheels (arm64, x86_64) linked here, in build/macos; make macos-check checks them
# make bench        every cost three ways: bare CPython, with Go's floor, with pyos (docs/performance.md)
# make soak         the soak test at 10**6 calls (make test runs 10**5)
# make fork-control the fork stress with children that call into Go: the guard stops every one
#
# Everything is fetched by the project itself: venvs and Python tools from PyPI,
# gopy and goimports through go.mod (go tool), other interpreters through
# scripts/interpreters.py. Nothing is taken from PATH but go, a C compiler and $(PYTHON).

PYTHON ?= python3
VENV   ?= .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.pyos-installed
# uv installs the pinned tools into the venvs, much faster than pip (docs/development.md); each venv's own pip,
# the one its interpreter ships, builds and installs pyos, as a user's pip does. uv takes the system's CA store,
# not the one it carries: a proxy's CA is in the system's.
UV := .venvs/uv/bin/uv
UV_INSTALL_INTO := $(UV) pip install --quiet --system-certs --python
# A second venv whose extension is built with -tags pyos_emulate: pipe2 emulated on Linux; pyos_pipe2_window
# lets the Python tests stop it between pipe and fcntl (pyos/pipe2_window.go).
EMU_VENV  := .venv-emulated
EMU_STAMP := $(EMU_VENV)/.pyos-installed
DEMO_VENV := .venv-demo
CROSS_OS  := darwin freebsd netbsd openbsd
CROSS_ARCH := amd64 arm64

GO_SOURCES := $(wildcard pyos/*.go binding/*.go) go.mod go.sum
PACKAGE_SOURCES := $(GO_SOURCES) $(wildcard extension/* python/pyos/*.py python/pyos/*.pyi python/pyos/py.typed) build.py setup.py pyproject.toml
PY_SOURCES := python python_tests examples bench extension scripts build.py setup.py
# Tests that take minutes (the soak); make check leaves them to make test.
FAST := -m "not slow"

.PHONY: all demo check ci-config test go-vet go-unit go-test go-race go-fuzz go-cross macos-wheels macos-check lint py-test py-test-emulated py-test-no-os-pipe2 dist test-wheels dist-check test-all bench soak fork-control install clean

all: test

$(UV): requirements-uv.txt
	$(PYTHON) -m venv .venvs/uv
	.venvs/uv/bin/python -m pip install --quiet -r requirements-uv.txt
	touch $@

%/.venv-ready: requirements-test.txt requirements-lint.txt | $(UV)
	$(PYTHON) -m venv $*
	$(UV_INSTALL_INTO) $*/bin/python -r requirements-test.txt -r requirements-lint.txt
	touch $@

# pip builds the wheel in an isolated environment with the build requirements of
# pyproject.toml, and build.py drives gopy; its output shows only if it fails.
# The venv is order-only: pip builds in isolation, so new test or lint tools need no rebuild.
$(STAMP): $(PACKAGE_SOURCES) | $(VENV)/.venv-ready
	$(VPY) -m pip install --quiet --force-reinstall --no-deps .
	touch $@

$(EMU_STAMP): $(PACKAGE_SOURCES) | $(EMU_VENV)/.venv-ready
	PYOS_GO_TAGS=pyos_emulate,pyos_pipe2_window $(EMU_VENV)/bin/python -m pip install --quiet --force-reinstall --no-deps .
	touch $@

$(DEMO_VENV)/.pyos-installed: $(PACKAGE_SOURCES)
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install --quiet --force-reinstall .
	touch $@

install: $(STAMP)

# PYTHONUNBUFFERED would ask for the two processes' lines to race.
demo: $(DEMO_VENV)/.pyos-installed
	@env -u PYTHONUNBUFFERED $(DEMO_VENV)/bin/python examples/seed_example.py

check: go-vet go-unit lint ci-config $(STAMP)
	$(VENV)/bin/pytest -q $(FAST) python_tests
	@echo "make check: passed (go vet, Go unit tests, lint, the wheels workflow's checks, pytest against the installed build)"

test: go-test go-race go-fuzz go-cross macos-check lint ci-config py-test py-test-emulated py-test-no-os-pipe2 dist-check
	@echo "make test: passed (Go: vet, tests native and emulated, race, fuzz, 8 cross builds;" \
		"the macOS wheels linked and their Mach-O checked; lint; the wheels workflow's checks;" \
		"pytest against the native and the emulated build, and the emulated one with os as macOS has it;" \
		"a reproducible wheel, built again from the sdist offline)"

# mypy checks the package against its source (the extension through its stub), the examples and scripts/.
lint: $(VENV)/.venv-ready
	$(VENV)/bin/ruff check -q $(PY_SOURCES)
	$(VENV)/bin/ruff format -q --check $(PY_SOURCES)
	$(VENV)/bin/mypy python/pyos examples extension/run_pybindgen.py scripts/*.py

# .github/workflows/wheels.yml (configured, not yet run) linted by actionlint, without the linters
# it would take from PATH; and the wheels cibuildwheel selects from pyproject.toml, per platform
# and the archs the workflow's runners have: the identifiers exactly those of
# .github/wheel-identifiers-P.txt, and what each one builds or reuses and how it is tested exactly
# .github/wheel-identifiers-P-tests.txt (WHEEL_PLAN, with cibuildwheel's own options and its choice
# of a built abi3 wheel to reuse; the ABI each interpreter gets is build.py's).
WHEEL_ARCHS := linux:x86_64,aarch64 macos:x86_64,arm64
define WHEEL_PLAN
import dataclasses, importlib.util, os, sys
from pathlib import Path
from cibuildwheel.options import CommandLineArguments, compute_options
from cibuildwheel.platforms import ALL_PLATFORM_MODULES, get_build_identifiers
from cibuildwheel.util.packaging import find_compatible_wheel
platform, archs = sys.argv[1:]
spec = importlib.util.spec_from_file_location("pyos_gopy_build", "build.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)
args = dataclasses.replace(CommandLineArguments.defaults(), platform=platform, archs=archs)
options = compute_options(platform=platform, command_line_arguments=args, env=os.environ)
selected = get_build_identifiers(ALL_PLATFORM_MODULES[platform], options.globals.build_selector, options.globals.architectures)
built = []
for ident in selected:
    python, plat = ident.split("-", 1)
    wheel = find_compatible_wheel(built, ident)
    if wheel is None:
        stable = build.uses_stable_abi({"gil_disabled": python.endswith("t")})
        tag = build.LIMITED_API_TAG + "-abi3" if stable else python.rstrip("t") + "-" + python
        wheel = Path("pyos_pipe2-0-" + tag + "-" + plat + ".whl")
        built.append(wheel)
        what = "builds " + tag
    else:
        what = "reuses " + "-".join(wheel.stem.split("-")[2:4])
    opts = options.build_options(ident)
    if not (opts.test_command and opts.test_selector(ident)):
        print(ident, what + "; NOT TESTED")
        continue
    env = " ".join(str(a) for a in opts.test_environment.assignments)
    print(ident, what + "; tests" + (", with " + env if env else "") + ": " + opts.test_command)
endef
export WHEEL_PLAN
ci-config: $(VENV)/.venv-ready
	go tool actionlint -shellcheck= -pyflakes=
	@test -x $(VENV)/bin/cibuildwheel || { echo "ci-config: no cibuildwheel in $(VENV) (it needs Python 3.11+)"; exit 1; }
	@set -e; for entry in $(WHEEL_ARCHS); do platform=$${entry%%:*}; archs=$${entry#*:}; \
		echo "cibuildwheel --print-build-identifiers --platform $$platform --archs $$archs | diff .github/wheel-identifiers-$$platform.txt -"; \
		$(VENV)/bin/cibuildwheel --print-build-identifiers --platform $$platform --archs $$archs \
			| diff -u .github/wheel-identifiers-$$platform.txt -; \
		echo "WHEEL_PLAN $$platform $$archs | diff .github/wheel-identifiers-$$platform-tests.txt -"; \
		$(VENV)/bin/python -P -c "$$WHEEL_PLAN" $$platform $$archs | diff -u .github/wheel-identifiers-$$platform-tests.txt -; \
	done

go-vet:
	go vet ./...
	go vet -tags pyos_emulate,pyos_pipe2_window ./...

go-unit:
	go test -count=1 ./...

# The Go tests both ways: native pipe2, and the emulation forced on with pyos_emulate.
go-test: go-vet go-unit
	go test -count=1 -tags pyos_emulate,pyos_pipe2_window ./...

go-race:
	go test -count=1 -race ./...

# Bounded fuzzing of Pipe2's flag handling against its model, both ways.
go-fuzz:
	go test -count=1 -run '^$$' -fuzz '^FuzzPipe2$$' -fuzztime 60000x ./pyos
	go test -count=1 -tags pyos_emulate -run '^$$' -fuzz '^FuzzPipe2$$' -fuzztime 30000x ./pyos

# The Go package and binding vet and build, without cgo, for the OSes this machine cannot run.
go-cross:
	@set -e; for os in $(CROSS_OS); do for arch in $(CROSS_ARCH); do \
		echo "GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 go vet ./pyos ./binding && go build ./pyos ./binding"; \
		GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 go vet ./pyos ./binding; \
		GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 go build ./pyos ./binding; \
	done; done

# The macOS wheels, cp39-abi3 for arm64 and x86_64, built from the sdist on Linux: build.py links with zig's
# C compiler and LLVM's ld64.lld (Debian's lld-19, which scripts/macos.py installs when missing), into
# build/macos; not published. macos-check checks each Mach-O: architecture, minos, exports, libraries,
# flat lookups, the signature's page hashes; and abi3audit --strict.
macos-wheels:
	$(PYTHON) scripts/macos.py build

macos-check: macos-wheels
	$(PYTHON) scripts/macos.py check

# pytest runs from the venv's bin, so the import of pyos finds the installed package.
py-test: $(STAMP)
	$(VENV)/bin/pytest -q python_tests

py-test-emulated: $(EMU_STAMP)
	PYOS_PIPE2_WINDOW_BUILD=1 $(EMU_VENV)/bin/pytest -q python_tests

# The suite as macOS's CPython sees os, without pipe2 and O_DIRECT (python_tests/conftest.py), against the
# emulated build: pyos.pipe2 is compared with the tests' model of os.pipe2, as on a Mac.
py-test-no-os-pipe2: $(EMU_STAMP)
	PYOS_TEST_WITHOUT_OS_PIPE2=1 PYOS_PIPE2_WINDOW_BUILD=1 $(EMU_VENV)/bin/pytest -q python_tests

# The interpreters are scripts/matrix.py's; those pyenv lacks, scripts/interpreters.py provisions and caches.
test-all:
	$(PYTHON) scripts/test_all.py

# Wheels are built from the sdist by each interpreter, with zig's C compiler; see scripts/dist.py.
dist:
	$(PYTHON) scripts/dist.py build

test-wheels:
	$(PYTHON) scripts/dist.py test

# What make test checks of a release: the abi3 wheel built twice from the sdist, the second time offline,
# byte-identical; abi3audit, its contents, the seed example on it.
dist-check:
	$(PYTHON) scripts/dist.py check

soak: $(STAMP)
	PYOS_SOAK_CALLS=1000000 $(VENV)/bin/pytest -q python_tests/test_soak.py

fork-control: $(STAMP)
	GOGC=1 $(VPY) -W ignore::DeprecationWarning python_tests/fork_stress.py 200 --enter-go-in-child 2>/dev/null

# Each figure three ways: bare CPython, CPython with Go's floor (bench/floor/: a Go c-shared library with one
# no-op export, built as build.py builds the extension), CPython with pyos. The free-threaded figures need
# scripts/interpreters.py's 3.13t; its venv gets pyos from this tree.
FT_PYTHON := $(or $(PYOS_CACHE),$(HOME)/.cache/pyos)/3.13t/bin/python
FT_BENCH_VENV := .venvs/bench-3.13t
$(FT_BENCH_VENV)/.pyos-installed: $(PACKAGE_SOURCES)
	$(FT_PYTHON) -m venv $(FT_BENCH_VENV)
	$(FT_BENCH_VENV)/bin/python -m pip install --quiet --force-reinstall --no-deps .
	touch $@

bench: $(STAMP)
	$(UV_INSTALL_INTO) $(VPY) -r bench/requirements.txt
	$(VPY) bench/pipe2_bench.py
	$(VPY) bench/callgrind_count.py
	@if [ -x $(FT_PYTHON) ]; then \
		$(MAKE) --no-print-directory $(FT_BENCH_VENV)/.pyos-installed && \
		$(FT_BENCH_VENV)/bin/python bench/pipe2_bench.py --only threads,fork; \
	else echo "make bench: no free-threaded CPython at $(FT_PYTHON):" \
		"python3 scripts/interpreters.py provision 3.13t, then make bench"; fi

clean:
	rm -rf $(VENV) $(EMU_VENV) $(DEMO_VENV) .venvs build dist python/*.egg-info python/pyos/_pyosgo*.so
