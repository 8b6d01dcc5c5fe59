# make demo   set everything up and run the seed example ported to pyos
# make test   set everything up and run every Go and Python test
# make bench  compare pyos.pipe2 with os.pipe2 per call
# make fork-control  the fork stress with children that enter Go: shows the hazard the harness catches
#
# Everything is fetched by the project itself: the venv and the Python tools from
# PyPI, gopy and goimports through go.mod (go tool). Nothing is taken from PATH
# but go, a C compiler and $(PYTHON).

PYTHON ?= python3
VENV   ?= .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.pyos-installed

GO_SOURCES := $(wildcard pyos/*.go binding/*.go) go.mod go.sum
PACKAGE_SOURCES := $(GO_SOURCES) $(wildcard python/pyos/*.py python/pyos/py.typed) build.py setup.py pyproject.toml

.PHONY: all demo test go-test py-test seed-pythons bench fork-control install clean

all: test

$(VENV)/.venv-ready: requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r requirements-test.txt
	touch $@

# pip builds the wheel in an isolated environment with the build deps from
# pyproject.toml; build.py then drives gopy.
$(STAMP): $(VENV)/.venv-ready $(PACKAGE_SOURCES)
	$(VPY) -m pip install --force-reinstall --no-deps .
	touch $@

install: $(STAMP)

demo: $(STAMP)
	env -u PYTHONUNBUFFERED $(VPY) examples/seed_example.py

test: go-test py-test seed-pythons

go-test:
	go vet ./...
	go test -count=1 ./...

# pytest runs from the venv's bin, so the import of pyos finds the installed package.
py-test: $(STAMP)
	$(VENV)/bin/pytest python_tests

# The seed example, with pyos.fork, on every CPython 3.9-3.13 the machine has: exact output, empty stderr.
seed-pythons: $(STAMP)
	$(VPY) python_tests/run_across_pythons.py seed

fork-control: $(STAMP)
	GOGC=1 $(VPY) -W ignore::DeprecationWarning python_tests/fork_stress.py 200 --enter-go-in-child

bench: $(STAMP)
	$(VPY) bench/bench_pipe2.py

clean:
	rm -rf $(VENV) .venvs build dist python/*.egg-info python/pyos/_pyosgo*.so
