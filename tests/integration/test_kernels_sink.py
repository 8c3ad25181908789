"""Every sink conversion (any value type into any array dtype) goes through Warp's codegen."""

from __future__ import annotations

import random

from curator.kernels.sink import convert
from curator.kernels.types import ARRAY_DTYPES, TYPES, literal
from curator.warp.build import generate


def _conversion_kernel(seed: int) -> str:
    rng = random.Random(seed)
    params = ", ".join(f"out_{n}: wp.array(dtype={TYPES[k].annotation})" for n, k in enumerate(ARRAY_DTYPES))
    lines = ["import warp as wp", "", "", "@wp.kernel", f"def sink_all({params}):", "    i = wp.tid()"]
    for m, src in enumerate(TYPES):
        lines.append(f"    x{m} = {literal(rng, TYPES[src], dynamic=True)}")
        for n, dst in enumerate(ARRAY_DTYPES):
            lines.append(f"    out_{n}[i] = {convert(rng, f'x{m}', src, dst)}")
        for dst in ("bool", "spatial_matrix"):  # var_leaf builds conditions and values of these too
            lines.append(f"    y{m}_{dst} = {convert(rng, f'x{m}', src, dst)}")
    return "\n".join(lines) + "\n"


def test_every_conversion_passes_codegen():
    source = _conversion_kernel(3)
    artifacts = generate(source, "sink_all", "cur_test_sink_all")
    assert "sink_all" in artifacts["cpu"].pieces["forward"]
