"""Compile modes of `curator verify` and what a pass in each proves (no Warp import)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CompileMode:
    """How hard a verification compiles: the optimisation level given to Warp's Clang (CPU), how
    NVRTC runs (CUDA: the whole compile to PTX at ``cuda_opt``, or its front end alone), and what
    a pass proves (docs/verification.md)."""

    name: str
    cpu_opt: int
    cuda_opt: int
    cuda_syntax_only: bool
    proves: str


# "full" is Warp's own release options.  "fast" compiles the CPU code at -O0 (a third of the CPU
# time of -O2) and runs NVRTC's front end alone on the CUDA code (-fdevice-syntax-only: the
# NVVM optimiser, 80 % of a whole compile, is left out; curator/warp/nvrtc.py).
MODES = {
    "full": CompileMode(
        "full",
        2,
        3,
        False,
        "compiles to an object file (CPU) / PTX (CUDA) with Warp's own release options",
    ),
    "fast": CompileMode(
        "fast",
        0,
        3,
        True,
        "CPU: type-checks, instantiates every template and emits an object file, unoptimised; CUDA: "
        "NVRTC's front end with Warp's options (parse, type-check, every template instantiated), no "
        "NVVM; optimiser and code-generator bugs are not covered",
    ),
}
DEFAULT_MODE = "fast"
# A CPU run (`verify --execute`) also records a CPU compile under mode "run": Warp's own JIT
# compiled the module at -O0 and the .cpp it compiled is the stored code (the pair check).
RUN_MODE = "run"
