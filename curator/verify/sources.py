"""Which stored sources may be executed: a launch imports the stored Python, so only what
curator's own generator makes (or ingested code the user trusts) runs."""

from __future__ import annotations

import re


def executable_source(kernel: dict, trust_real: bool = False) -> str | None:
    """Why a stored kernel's source may not be executed (None: it may).

    Running a launch imports the stored Python, so only source curator's own generator makes
    is run: a synthetic kernel's source must be exactly what the current generator gives for
    its seed and category (a store edited by hand is refused).  Ingested (real) kernels run
    only with ``trust_real`` (`curator verify --run --trust`)."""
    if kernel["origin"] == "real":
        if not trust_real:
            return "not executed: real (ingested) kernel; pass --trust to run it"
        if not re.search(r"^\s*(import warp|from warp)", kernel["source"], re.M):
            return "not executed: an ingested kernel is stored as its definition alone, without its module's imports"
        return None
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
