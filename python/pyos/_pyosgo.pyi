# The extension that build.py builds: pyos's C functions (extension/pyos_module.c)
# and gopy's wrappers of ../../binding that pyos calls.
import sys
from typing import Any, Callable, TypeVar

_T = TypeVar("_T")

# Typed as typeshed types os.pipe2 and os.pipe.
def pipe2(flags: int, /) -> tuple[int, int]: ...
def pipe() -> tuple[int, int]: ...

HAVE_NATIVE_PIPE2: bool
O_NONBLOCK: int
O_CLOEXEC: int
__version__: str
if sys.platform == "linux":
    O_DIRECT: int  # where pipe2 has packet mode

def binding_ONonblock() -> int: ...
def binding_OCloexec() -> int: ...
def binding_Version() -> str: ...
def NumHandles() -> int: ...  # gopy's live handle count; the binding never makes handles

# func(*args, **kwargs) with no emulated pipe2 between pipe and fcntl meanwhile.
def _call_in_fork_gate(func: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T: ...

# macOS: the count of the Mach task's threads CPython's fork warning makes, 0 where it fails.
def _mach_thread_count() -> int: ...
def _go_thread_count() -> int: ...  # the OS threads Go's runtime owns (runtime/metrics)
