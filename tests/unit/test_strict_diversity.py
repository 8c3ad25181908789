"""Diversity under strict normalisation: numbers count for nothing, as names do, in the skeletons and
signatures the store keeps and export's --dedup clusters on."""

from __future__ import annotations

import numpy as np

from curator import neardup

_A = """import warp as wp


@wp.kernel
def damp(v: wp.array(dtype=wp.vec3), n: int, k: float):
    i = wp.tid()
    if i >= n:
        return
    u = v[i] * 0.5
    v[i] = wp.normalize(u) * (k + 2.0)
"""
# other names, other constants, one more statement: the same skeleton for the first, near for the second
_B = (
    _A.replace("damp", "scale_v")
    .replace("0.5", "0.93")
    .replace("2.0", "1e-3")
    .replace(" u", " w")
    .replace("(u)", "(w)")
)
_C = _A.replace("    v[i] = ", "    u = u + wp.vec3(0.0, 1.0, 0.0)\n    v[i] = ")
_OTHER = _A.replace("wp.normalize(u) * (k + 2.0)", "wp.cross(u, wp.vec3(k)) + wp.vec3(wp.length(u))")


def _signs(sources):
    tokens = [neardup.normalize_tokens(s) for s in sources]
    hv = np.array([neardup.minhash_of_tokens(t).hashvalues for t in tokens], dtype=np.uint32)
    return [neardup.skeleton_hash_of_tokens(t) for t in tokens], hv


def test_numbers_and_names_are_normalised_in_the_stored_skeleton():
    assert "0.93" in _B and "scale_v" in _B and _B != _A
    skeletons, _ = _signs([_A, _B])
    assert skeletons[0] == skeletons[1]
    assert "NUM" in neardup.normalize_tokens(_A) and "0.5" not in neardup.normalize_tokens(_A)


def test_strict_diversity_counts_distinct_sources_and_near_dedup_survivors():
    sources = [_A, _B, _C, _OTHER]
    skeletons, hv = _signs(sources)
    d = neardup.strict_diversity(["vector", "vector", "vector", "matrix"], skeletons, hv)
    assert d["distinct_by_category"] == {"matrix": 1.0, "vector": 2 / 3}  # _A and _B are one skeleton
    assert d["lowest_distinct_category"] == "vector"
    # what survives is what export's dedup keeps: one per cluster of the same signatures
    expected = neardup.cluster([str(i) for i in range(4)], hv, skeletons).clusters / 4
    assert d["neardup_survival"] == expected
    assert expected <= 3 / 4  # _A and _B share a cluster at least
