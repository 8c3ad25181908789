"""Compile modes of `curator verify` and what a pass in each proves (no Warp import)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CompileMode:
    """How hard a verification compiles: the optimisation levels given to Warp's Clang (CPU)
    and NVRTC (CUDA), and what a pass proves (docs/verification.md)."""

    name: str
    cpu_opt: int
    cuda_opt: int
    proves: str


# "full" is Warp's own release options.  "fast" compiles the CPU code at -O0 (3x less CPU time
# than -O2) and the CUDA code with Warp's own -O3: NVRTC at -O1 was measured slower than at -O3
# (1.04 against 1.53 kernels per CPU-second, bench/bench_verify.py), and -O0 is unsafe on
# NVRTC 13.1+ (Warp itself raises it to 1).  A fast CUDA pass is therefore a full one.
MODES = {
    "full": CompileMode("full", 2, 3, "compiles to an object file (CPU) / PTX (CUDA) with Warp's own release options"),
    "fast": CompileMode(
        "fast",
        0,
        1,
        "type-checks, instantiates every template and emits an object file / PTX, "
        "unoptimised; optimiser bugs at -O2/-O3 are not covered",
    ),
}
DEFAULT_MODE = "fast"
# A CPU run (`verify --execute`) also records a CPU compile under mode "run": Warp's own JIT
# compiled the module at -O0 and the .cpp it compiled is the stored code (the pair check).
RUN_MODE = "run"
