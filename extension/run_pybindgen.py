"""Run gopy's pybindgen script with pyos's C functions joined to the module it generates.

    python run_pybindgen.py SCRIPT

Run by the interpreter the extension is built for, in the directory gopy wrote
SCRIPT (its build.py) to. That script builds a pybindgen Module and generates the
module's C source from it. It runs unchanged; only the Module it builds is
pybindgen's Module with two of its public hooks used: the module includes
pyos_module.h, and its init function calls pyos_module_init right after
PyModule_Create (pybindgen's after_init code block). Its functions are written in
order of name, so that the same binding always gives the same C.
"""

import collections
import runpy
import sys

import pybindgen

EXPECTED_MODULE = "_pyosgo"
generated: list[str] = []


class ModuleWithPyosFunctions(pybindgen.Module):  # type: ignore[misc]  # a class from an untyped package
    functions: collections.OrderedDict[str, object]  # pybindgen's: name -> overloaded function

    def generate(self, *args: object, **kwargs: object) -> None:
        # gopy adds the binding's functions in the order of a Go map; the C is written in this order.
        self.functions = collections.OrderedDict(sorted(self.functions.items()))
        self.add_include('"pyos_module.h"')
        self.after_init.write_error_check("pyos_module_init(m) < 0", "Py_DECREF(m);")
        generated.append(self.name)
        super().generate(*args, **kwargs)


def main() -> int:
    (script,) = sys.argv[1:]
    pybindgen.Module = ModuleWithPyosFunctions
    runpy.run_path(script, run_name="__main__")
    if generated != [EXPECTED_MODULE]:
        print(
            f"run_pybindgen.py: error: gopy's pybindgen script changed: it generated the modules {generated}, "
            f"where pyos joins its functions to exactly one, {EXPECTED_MODULE}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
