"""Compare the arrays of a prediction's launch with the reference's: tolerances by dtype, NaN and
Inf at the same places, integers and booleans exact; the first difference in words."""

from __future__ import annotations

# (relative, absolute) tolerance by float width in bytes
TOLERANCE = {2: (1e-2, 1e-3), 4: (1e-4, 1e-5), 8: (1e-9, 1e-12)}


def differs(ref, got) -> str:
    """'' if ``got`` matches ``ref`` (two ndarrays), else why not."""
    import numpy as np

    if ref.shape != got.shape or ref.dtype != got.dtype:
        return f"shape/dtype {got.shape} {got.dtype}, expected {ref.shape} {ref.dtype}"
    if ref.dtype.names:
        for f in ref.dtype.names:
            why = differs(np.ascontiguousarray(ref[f]), np.ascontiguousarray(got[f]))
            if why:
                return f"field {f}: {why}"
        return ""
    if ref.dtype.kind != "f":
        bad = np.flatnonzero((ref != got).reshape(-1))
        return _first(ref, got, bad)
    a, b = ref.astype(np.float64), got.astype(np.float64)
    rtol, atol = TOLERANCE.get(ref.dtype.itemsize, TOLERANCE[4])
    same_special = (
        (np.isnan(a) == np.isnan(b)) & (np.isposinf(a) == np.isposinf(b)) & (np.isneginf(a) == np.isneginf(b))
    )
    finite = np.isfinite(a) & np.isfinite(b)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: judged by same_special
        close = np.abs(a - b) <= atol + rtol * np.abs(a)
    ok = same_special & (~finite | close)
    return _first(ref, got, np.flatnonzero(~ok.reshape(-1)))


def _first(ref, got, bad) -> str:
    if not len(bad):
        return ""
    i = int(bad[0])
    want, have = ref.reshape(-1)[i], got.reshape(-1)[i]
    return f"{len(bad)} element(s) differ, first at flat index {i}: {have!r}, expected {want!r}"


def first_difference(ref: list[dict], got: list[dict]) -> str:
    """'' if every seed's arrays match, else 'seed k, array NAME: why' for the first that does not."""
    for k, (r, g) in enumerate(zip(ref, got, strict=True)):
        if set(r) != set(g):
            return f"seed {k}: arrays {sorted(g)}, expected {sorted(r)}"
        for name in r:
            why = differs(r[name], g[name])
            if why:
                return f"seed {k}, array {name}: {why}"
    return ""
