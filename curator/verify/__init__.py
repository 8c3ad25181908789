"""The verification stage: which kernels (``sample``), compiles in batches (``compile``) on a pool
that survives its workers' deaths and hangs (``pool``), CPU runs (``executions``), the CPU-vs-GPU
launches (``differential``), which sources may run (``sources``) and what the adjoint check's
failures are (``gradfindings``); ``run`` sequences them."""

from __future__ import annotations

from curator.verify.compile import BATCH_SIZE, DeviceCounts, KernelResult, Report, Verifier, compile_batch
from curator.verify.pool import COMPILE_S_PER_KERNEL, COMPILE_TIMEOUT, VerifyError
from curator.verify.sample import in_sample, sample
from curator.verify.sequence import Observer, Options, Outcome, run

__all__ = [
    "BATCH_SIZE",
    "COMPILE_S_PER_KERNEL",
    "COMPILE_TIMEOUT",
    "DeviceCounts",
    "KernelResult",
    "Observer",
    "Options",
    "Outcome",
    "Report",
    "Verifier",
    "VerifyError",
    "compile_batch",
    "in_sample",
    "run",
    "sample",
]
