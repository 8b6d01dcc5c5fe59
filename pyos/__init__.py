"""Not the Python package: this directory is pyos's Go package, github.com/pyos-project/pyos/pyos.

Python finds it first when it runs in the root of the source tree. If pyos is
installed for this interpreter, that package is loaded in its place; if not, the
import fails and says what to do.
"""

import importlib.machinery
import importlib.util
import os
import sys

_tree = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_elsewhere = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != _tree]
_spec = importlib.machinery.PathFinder.find_spec(__name__, _elsewhere)
if _spec is None or _spec.loader is None or _spec.origin is None:
    raise ImportError(
        "pyos is not installed for this interpreter, and the pyos/ directory of the source tree is its Go "
        "package. Install it (pip install . here, or make install and use .venv/bin/python), "
        "or run Python from another directory."
    )
_installed = importlib.util.module_from_spec(_spec)
sys.modules[__name__] = _installed
_spec.loader.exec_module(_installed)
