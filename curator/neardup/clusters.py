"""Near-duplicate clusters: union-find over LSH pairs and exact duplicates, each cluster's
representative, and the clusters of a store (computed, checked current, saved through the store)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from curator.neardup.lsh import near_duplicate_pairs
from curator.neardup.signatures import (
    DEFAULT_THRESHOLD,
    NUM_PERM,
    estimated_jaccard,
    hashvalues_of_blobs,
    minhash_of_tokens,
)
from curator.neardup.tokens import normalize_tokens

if TYPE_CHECKING:
    import numpy as np

    from curator.store import Store


# -- near-duplicate clusters -------------------------------------------------------------
@dataclass
class Clusters:
    """Every kernel's cluster representative and its estimated similarity to it."""

    ids: list[str]
    representative: list[str]  # parallel to ids
    similarity: list[float]  # parallel to ids

    @property
    def kernels(self) -> int:
        return len(self.ids)

    @property
    def clusters(self) -> int:
        return len(set(self.representative))

    @property
    def removed(self) -> int:
        """Kernels that are not their cluster's representative (dropped by an export --dedup)."""
        return self.kernels - self.clusters

    def representatives(self) -> set[str]:
        return set(self.representative)

    def rows(self) -> Iterator[tuple[str, str, float]]:
        return zip(self.ids, self.representative, self.similarity, strict=True)


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:  # path compression
            parent[i], i = root, parent[i]
        return root

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def cluster(
    ids: Sequence[str],
    hashvalues: np.ndarray,
    skeleton_hashes: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
    priority: Sequence[int] | None = None,
) -> Clusters:
    """Group kernels into near-duplicate clusters (union-find over LSH pairs confirmed at
    ``threshold``, plus exact duplicates of the normalised source) and pick each cluster's
    representative: the lowest ``priority`` (e.g. 0 accepted, 1 unreviewed, 2 rejected), then
    the smallest id.  Deterministic: the same inputs give the same clusters.
    """
    import numpy as np

    n = len(ids)
    if not (len(hashvalues) == len(skeleton_hashes) == n) or (priority is not None and len(priority) != n):
        raise ValueError("ids, hashvalues, skeleton_hashes and priority must have one entry per kernel")
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must be in (0, 1]")
    uf = _UnionFind(n)
    # Exact duplicates: equal skeletons, and equal signatures (which LSH need see only once).
    first_of: dict[object, int] = {}
    for i, key in enumerate(skeleton_hashes):
        uf.union(first_of.setdefault(key, i), i)
    hv = np.ascontiguousarray(hashvalues, dtype=np.uint32)
    if n:
        _, unique_idx, inverse = np.unique(
            hv.view(np.dtype((np.void, hv.dtype.itemsize * hv.shape[1]))).ravel(),
            return_index=True,
            return_inverse=True,
        )
        for i, u in enumerate(inverse.ravel().tolist()):
            uf.union(int(unique_idx[u]), i)
        unique_idx = np.sort(unique_idx)
        for a, b, _ in near_duplicate_pairs(hv[unique_idx], threshold):
            uf.union(int(unique_idx[a]), int(unique_idx[b]))
    prio = list(priority) if priority is not None else [0] * n
    best: dict[int, int] = {}
    for i in range(n):
        root = uf.find(i)
        j = best.get(root)
        if j is None or (prio[i], ids[i]) < (prio[j], ids[j]):
            best[root] = i
    rep_idx = np.fromiter((best[uf.find(i)] for i in range(n)), dtype=np.int64, count=n)
    sims = estimated_jaccard(hv, hv[rep_idx]) if n else np.zeros(0)
    return Clusters(
        ids=list(ids),
        representative=[ids[r] for r in rep_idx.tolist()],
        similarity=[round(float(s), 6) for s in sims],
    )


# -- clusters of a store -----------------------------------------------------------------
# Representative order: an accepted kernel first, a rejected one last (so a cluster exports a
# rejected kernel's twin rather than nothing), then the smallest id.
REVIEW_PRIORITY = {"accepted": 0, "rejected": 2}


@dataclass
class DedupRun:
    """Clusters computed for a store at a threshold, with what they were computed from."""

    clusters: Clusters
    threshold: float
    fingerprint: str
    recomputed: int  # signatures recomputed from source (missing or foreign BLOBs)


def compute_clusters(store: Store, threshold: float = DEFAULT_THRESHOLD) -> DedupRun:
    """Cluster every kernel of ``store`` (a curator.store.Store); nothing is written."""
    import numpy as np

    fingerprint = store.dedup_fingerprint()
    rows = store.dedup_inputs()
    ids = [r[0] for r in rows]
    hv, bad = hashvalues_of_blobs([r[2] for r in rows])
    for i in bad:
        sig = minhash_of_tokens(normalize_tokens(store.kernel_source(ids[i]) or ""))
        hv[i] = np.asarray(sig.hashvalues, dtype=np.uint32)
    statuses = store.review_statuses()
    priority = [REVIEW_PRIORITY.get(statuses.get(k, ""), 1) for k in ids]
    clusters = cluster(ids, hv, [r[1] for r in rows], threshold, priority)
    return DedupRun(clusters, threshold, fingerprint, len(bad))


def is_current(state: dict | None, fingerprint: str, threshold: float) -> bool:
    """Whether stored clusters (``store.dedup_state()``) still describe the store."""
    return (
        state is not None
        and state["fingerprint"] == fingerprint
        and state["num_perm"] == NUM_PERM
        and abs(state["threshold"] - threshold) < 1e-9
    )


def save_clusters(store: Store, run: DedupRun) -> dict:
    """Store ``run``'s clusters and state (one transaction); returns the state."""
    return store.save_dedup(
        run.clusters.rows(), threshold=run.threshold, num_perm=NUM_PERM, fingerprint=run.fingerprint
    )
