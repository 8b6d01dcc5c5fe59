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

# Before a fork: CPython's fork warning ignored where the only threads besides the caller's are Go's.
def _fork_warning_before() -> None: ...

# The OS threads CPython counts for its fork warning, and Go's among them; (0, 0) where it counts none.
def _thread_counts() -> tuple[int, int]: ...
def _go_thread_count() -> int: ...  # the OS threads Go's runtime owns (runtime/metrics)

_GO_THREAD_NAME: str  # the name Go's threads have on Linux
