"""Near-duplicate detection: source normalisation, token shingles, MinHash signatures and LSH
clustering.  No SQL, no Warp, no Textual here."""

from __future__ import annotations

import hashlib
import io
import keyword
import tokenize
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where it is used: `curator --help` stays fast
    import numpy as np

# Names kept verbatim by the normaliser besides keywords and ``wp.<attr>`` chains: Python
# builtins and the scalar type names kernels use in annotations.
KEPT_NAMES = frozenset(
    {"range", "int", "float", "bool", "len", "min", "max", "abs", "print", "tuple", "dtype", "ndim", "warp"}
)


def normalize_tokens(source: str) -> list[str]:
    """Tokens of ``source`` with identifiers -> ``ID``, numbers -> ``NUM``, strings -> ``STR``.

    Keywords, operators, Warp API names (``wp.sin``, ``wp.vec3``, ``wp.types.float16``) and a
    few Python builtins are kept, so two kernels that differ only in naming and constants give
    the same token list.  Comments, docstrings' text, and layout do not count.
    """
    out: list[str] = []
    after_wp = False  # the previous tokens were ``wp .`` (or ``wp.x .``)
    prev_wp_name = False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source.split()
    for tok in tokens:
        kind, text = tok.type, tok.string
        if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
            continue
        if kind == tokenize.NAME:
            if text == "wp" or after_wp or keyword.iskeyword(text) or text in KEPT_NAMES:
                out.append(text)
                prev_wp_name = text == "wp" or after_wp
            else:
                out.append("ID")
                prev_wp_name = False
            after_wp = False
            continue
        if kind == tokenize.OP and text == "." and prev_wp_name:
            after_wp = True
            out.append(".")
            continue
        after_wp = prev_wp_name = False
        if kind == tokenize.NUMBER:
            out.append("NUM")
        elif kind == tokenize.STRING:
            out.append("STR")
        elif kind == tokenize.NEWLINE:
            out.append("\n")
        elif kind == tokenize.INDENT:
            out.append("<IN>")
        elif kind == tokenize.DEDENT:
            out.append("<DE>")
        else:
            out.append(text)
    return out


def skeleton(source: str) -> str:
    """The normalised source as one string (identifiers and numbers replaced)."""
    return " ".join(normalize_tokens(source))


def skeleton_hash(source: str) -> str:
    """A stable hash of the normalised source: equal for renamed/re-constanted clones."""
    return skeleton_hash_of_tokens(normalize_tokens(source))


def skeleton_hash_of_tokens(tokens: list[str]) -> str:
    return hashlib.sha256(" ".join(tokens).encode()).hexdigest()[:32]


# -- MinHash signatures ------------------------------------------------------------------
NUM_PERM = 128
MINHASH_SEED = 1
SHINGLE = 5  # token n-gram length

_template = None


def _template_minhash():
    """An empty MinHash whose permutations are made once per process (the constructor is the
    cost); each signature is a copy of it, as ``MinHash.generator`` does."""
    global _template
    if _template is None:
        import xxhash
        from datasketch import MinHash

        _template = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, hashfunc=xxhash.xxh32_intdigest)
    return _template


def shingles(tokens: list[str], n: int = SHINGLE) -> set[bytes]:
    """The distinct token n-grams (one shingle for inputs shorter than n), as bytes."""
    if len(tokens) < n:
        return {" ".join(tokens).encode()}
    return {" ".join(tokens[i : i + n]).encode() for i in range(len(tokens) - n + 1)}


def minhash_of_tokens(tokens: list[str]):
    """A LeanMinHash of the token shingles (xxhash, fixed seed, NUM_PERM permutations)."""
    from datasketch import LeanMinHash

    m = _template_minhash().copy()
    m.update_batch(list(shingles(tokens)))
    return LeanMinHash(m)


def signature(source: str) -> bytes:
    """The MinHash signature BLOB stored with each kernel (LeanMinHash.serialize)."""
    return signature_of_tokens(normalize_tokens(source))


def signature_of_tokens(tokens: list[str]) -> bytes:
    """The bytes of ``minhash_of_tokens(tokens)`` serialised, made without importing datasketch."""
    from curator import minhash

    return minhash.serialized(minhash.hashvalues(shingles(tokens), MINHASH_SEED, NUM_PERM), MINHASH_SEED)


# -- signatures in bulk ------------------------------------------------------------------
MINHASH_SCHEME = "affine32"  # what MinHash(seed=MINHASH_SEED) makes in datasketch 2.x
DEFAULT_THRESHOLD = 0.8


def _blob_layout() -> tuple[bytes, int]:
    """The header every stored signature starts with (seed, -num_perm, scheme code) and the
    offset of its uint32 hash values, read off a real signature so they follow datasketch."""
    blob = signature_of_tokens(["x"])
    offset = len(blob) - 4 * NUM_PERM
    return blob[:offset], offset


def hashvalues_of_blobs(blobs: Sequence[bytes | None]) -> tuple[np.ndarray, list[int]]:
    """The (n, NUM_PERM) uint32 hash values of stored signature BLOBs, parsed with numpy.

    Returns the matrix and the indexes of BLOBs that are missing or not in this curator's
    format (other seed, permutation count or scheme); their rows are zero and the caller
    recomputes them from the source.
    """
    import numpy as np

    header, offset = _blob_layout()
    size = offset + 4 * NUM_PERM
    out = np.zeros((len(blobs), NUM_PERM), dtype=np.uint32)
    good = [i for i, b in enumerate(blobs) if b is not None and len(b) == size and b[:offset] == header]
    bad = sorted(set(range(len(blobs))) - set(good)) if len(good) != len(blobs) else []
    if good:
        raw = np.frombuffer(b"".join(blobs[i] for i in good), dtype=np.uint8).reshape(len(good), size)
        out[good] = raw[:, offset:].copy().view(np.dtype("=u4"))
    return out, bad


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of signature rows: the share of equal hash values."""
    return (a == b).mean(axis=-1)


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


def near_duplicate_pairs(hashvalues: np.ndarray, threshold: float) -> Iterator[tuple[int, int, float]]:
    """(i, j, estimated Jaccard) for i < j whose signatures are at least ``threshold`` similar.

    Candidates come from ``MinHashLSH`` (bands tuned for the threshold) and are confirmed by
    the estimated Jaccard; rows must be distinct (collapse exact duplicates first).
    """
    import numpy as np
    from datasketch import LeanMinHash, MinHashLSH

    n = len(hashvalues)
    if n < 2:
        return
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    sketches = [LeanMinHash(seed=MINHASH_SEED, hashvalues=row, scheme=MINHASH_SCHEME) for row in hashvalues]
    with lsh.insertion_session(buffer_size=max(n, 1)) as session:
        for i, m in enumerate(sketches):
            session.insert(i, m, check_duplication=False)
    for i, m in enumerate(sketches):
        cands = [j for j in lsh.query(m) if j > i]
        if not cands:
            continue
        idx = np.fromiter(cands, dtype=np.int64, count=len(cands))
        sims = estimated_jaccard(hashvalues[idx], hashvalues[i])
        keep = sims >= threshold
        for j, s in zip(idx[keep].tolist(), sims[keep].tolist(), strict=True):
            yield i, j, s


def near_reference(reference: np.ndarray, queries: np.ndarray, threshold: float) -> list[int]:
    """Indexes of the ``queries`` rows at least ``threshold`` similar (estimated Jaccard) to
    some ``reference`` row: the reference goes into a ``MinHashLSH``, each query is looked up
    and its candidates confirmed, as ``near_duplicate_pairs`` does."""
    import numpy as np
    from datasketch import LeanMinHash, MinHashLSH

    if not len(reference) or not len(queries):
        return []
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    with lsh.insertion_session(buffer_size=len(reference)) as session:
        for i, row in enumerate(reference):
            session.insert(
                i, LeanMinHash(seed=MINHASH_SEED, hashvalues=row, scheme=MINHASH_SCHEME), check_duplication=False
            )
    hits = []
    for i, row in enumerate(queries):
        cands = lsh.query(LeanMinHash(seed=MINHASH_SEED, hashvalues=row, scheme=MINHASH_SCHEME))
        if cands:
            idx = np.fromiter(cands, dtype=np.int64, count=len(cands))
            if (estimated_jaccard(reference[idx], row) >= threshold).any():
                hits.append(i)
    return hits


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


def compute_clusters(store, threshold: float = DEFAULT_THRESHOLD) -> DedupRun:
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


def save_clusters(store, run: DedupRun) -> dict:
    """Store ``run``'s clusters and state (one transaction); returns the state."""
    return store.save_dedup(
        run.clusters.rows(), threshold=run.threshold, num_perm=NUM_PERM, fingerprint=run.fingerprint
    )


# -- strict diversity ------------------------------------------------------------------
def strict_diversity(
    categories: Sequence[str],
    skeleton_hashes: Sequence[str],
    hashvalues: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict:
    """Diversity under the normalisation above (identifiers and numbers replaced): per category the share
    of distinct normalised sources, and the share of kernels that survive near-dedup (one kept per
    cluster of MinHash LSH at ``threshold`` over token 5-grams), over all the kernels given."""
    n = len(categories)
    by_cat: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    for cat, skel in zip(categories, skeleton_hashes, strict=True):
        by_cat.setdefault(cat, set()).add(skel)
        sizes[cat] = sizes.get(cat, 0) + 1
    distinct = {cat: len(by_cat[cat]) / sizes[cat] for cat in sorted(by_cat)}
    survival = cluster([str(i) for i in range(n)], hashvalues, skeleton_hashes, threshold).clusters / n if n else 1.0
    return {
        "distinct_by_category": distinct,
        "lowest_distinct_share": min(distinct.values(), default=1.0),
        "lowest_distinct_category": min(distinct, key=lambda c: distinct[c], default=""),
        "neardup_survival": survival,
    }
