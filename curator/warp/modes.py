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


# "full" is Warp's own release options; "fast" runs the same front ends and back ends at the
# lowest optimisation level Warp allows (NVRTC 13.1+ is unsafe at -O0, so Warp itself uses -O1).
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
