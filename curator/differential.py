"""Running stored kernels: which stored sources may be executed (``executable_source``) and the
CPU-vs-GPU differential launches of `curator verify --run` (``differential``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from curator.store import Store
from curator.store.verify import LAUNCH_PREFIX, Verification


@dataclass
class LaunchResult:
    kernel_id: str
    ok: bool
    message: str


def executable_source(kernel: dict, trust_real: bool = False) -> str | None:
    """Why a stored kernel's source may not be executed (None: it may).

    Running a launch imports the stored Python, so only source curator's own generator makes
    is run: a synthetic kernel's source must be exactly what the current generator gives for
    its seed and category (a store edited by hand is refused).  Ingested (real) kernels run
    only with ``trust_real`` (`curator verify --run --trust`)."""
    if kernel["origin"] == "real":
        return None if trust_real else "not executed: real (ingested) kernel; pass --trust to run it"
    from curator.kernels import GENERATOR_VERSION, generate_kernel, parse_version_label

    version, style = parse_version_label(kernel["generator_version"] or "")
    if version != GENERATOR_VERSION or kernel["seed"] is None:
        return f"not executed: made by generator {kernel['generator_version']}, this is {GENERATOR_VERSION}"
    try:
        regenerated = generate_kernel(kernel["seed"], kernel["category"], style).source
    except ValueError:
        regenerated = None
    if regenerated != kernel["source"]:
        return "not executed: stored source differs from the generator's output for its seed"
    return None


def differential(store: Store, ids: Iterable[str], *, seed: int = 0, size: int = 8,
                 trust_real: bool = False) -> Iterator[LaunchResult]:  # fmt: skip
    """Launch each kernel on CPU and GPU with the same random inputs and compare every array
    argument afterwards; each result is stored (device 'cuda', compiler 'launch warp ...').
    Kernels whose source may not be executed (see ``executable_source``) are reported, not run."""
    import json

    import numpy as np

    from curator.warp import build, launch, warp_version

    version = warp_version()
    for kid in ids:
        k = store.get_kernel(kid)
        if k is None:
            continue
        refused = executable_source(k, trust_real)
        if refused:
            yield LaunchResult(kid, False, refused)
            continue
        module_name = f"curator_run_{kid}"
        outputs, message = {}, ""
        try:
            module, kernel = launch.load_kernel(k["source"], k["name"], module_name)
            args = json.loads(k["kernel_args"] or "[]")
            for device in ("cpu", "cuda"):
                _, outputs[device] = launch.launch_random(kernel, module, args, k["launch_dim"], device, seed, size)
        except Exception as exc:  # a launch failure is the test's result, recorded with its message
            message = f"{type(exc).__name__}: {exc}"
        finally:
            build.release_module(module_name)
        if not message:
            bad = [n for n, a in outputs["cpu"].items()
                   if not np.allclose(a, outputs["cuda"][n], rtol=1e-3, atol=1e-3, equal_nan=True)]  # fmt: skip
            message = f"outputs differ between CPU and GPU: {', '.join(bad)}" if bad else ""
        result = LaunchResult(kid, not message, message)
        store.record_verifications([
            Verification(kid, "cuda", f"{LAUNCH_PREFIX} warp {version}", f"cpu-vs-cuda size={size} seed={seed}",
                         result.ok, message, None)
        ])  # fmt: skip
        yield result
