"""Near-duplicate detection in four small steps: normalised tokens (``tokens``), MinHash
signatures (``signatures``, with ``minhash`` making datasketch's bytes with numpy alone), LSH
candidate pairs (``lsh``) and clusters (``clusters``).  No SQL, no Warp, no Textual here."""

from __future__ import annotations

from curator.neardup.clusters import (
    REVIEW_PRIORITY,
    Clusters,
    DedupRun,
    cluster,
    compute_clusters,
    is_current,
    save_clusters,
)
from curator.neardup.lsh import near_duplicate_pairs, near_reference
from curator.neardup.signatures import (
    DEFAULT_THRESHOLD,
    MINHASH_SCHEME,
    MINHASH_SEED,
    NUM_PERM,
    SHINGLE,
    estimated_jaccard,
    hashvalues_of_blobs,
    minhash_of_tokens,
    shingles,
    sign_record,
    signature,
    signature_of_tokens,
)
from curator.neardup.tokens import KEPT_NAMES, normalize_tokens, skeleton, skeleton_hash, skeleton_hash_of_tokens

__all__ = [
    "DEFAULT_THRESHOLD",
    "KEPT_NAMES",
    "MINHASH_SCHEME",
    "MINHASH_SEED",
    "NUM_PERM",
    "REVIEW_PRIORITY",
    "SHINGLE",
    "Clusters",
    "DedupRun",
    "cluster",
    "compute_clusters",
    "estimated_jaccard",
    "hashvalues_of_blobs",
    "is_current",
    "minhash_of_tokens",
    "near_duplicate_pairs",
    "near_reference",
    "normalize_tokens",
    "save_clusters",
    "shingles",
    "sign_record",
    "signature",
    "signature_of_tokens",
    "skeleton",
    "skeleton_hash",
    "skeleton_hash_of_tokens",
]
