"""Diversity under strict normalisation (identifiers and numbers replaced): distinct share per
category and the share of kernels that survive near-dedup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from curator.neardup.clusters import cluster
from curator.neardup.signatures import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    import numpy as np


def strict_diversity(
    categories: Sequence[str],
    skeleton_hashes: Sequence[str],
    hashvalues: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict:
    """Diversity under ``normalize_tokens`` (identifiers and numbers replaced): per category the share
    of distinct normalised sources, and the share of kernels that survive near-dedup (one kept per
    cluster of MinHash LSH at ``threshold`` over token 5-grams), over all the kernels given."""
    n = len(categories)
    by_cat: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    for cat, skel in zip(categories, skeleton_hashes, strict=True):
        by_cat.setdefault(cat, set()).add(skel)
        sizes[cat] = sizes.get(cat, 0) + 1
    distinct = {cat: len(by_cat[cat]) / sizes[cat] for cat in sorted(by_cat)}
    ids = [str(i) for i in range(n)]
    survival = cluster(ids, hashvalues, skeleton_hashes, threshold).clusters / n if n else 1.0
    return {
        "distinct_by_category": distinct,
        "lowest_distinct_share": min(distinct.values(), default=1.0),
        "lowest_distinct_category": min(distinct, key=lambda c: distinct[c], default=""),
        "neardup_survival": survival,
    }
