"""Decontamination: the synthetic kernels within the near-duplicate threshold of a reference
set (the real kernels in the store, or a JSONL/folder of Python), found by MinHash LSH."""

from __future__ import annotations

import json
import os
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from curator import neardup
from curator.errors import CuratorError

if TYPE_CHECKING:
    import numpy as np

    from curator.store import Store


class BadReference(CuratorError, ValueError):
    """A reference set that cannot be read (one sentence for the user)."""


@dataclass
class Reference:
    """The kernels synthetic ones are checked against, as MinHash values: each kernel's whole
    source and, apart, each of its ``@wp.kernel`` definitions (a reference read from files has
    no helpers, a real kernel in the store has them: comparing definitions too catches a copy
    either way)."""

    description: str  # what they are, for the manifest and the card
    kernels: int
    hashvalues: np.ndarray  # (rows, NUM_PERM) uint32


def _hashvalues(sources: list[str]):
    import numpy as np

    rows = [neardup.minhash_of_tokens(neardup.normalize_tokens(s)).hashvalues for s in sources]
    return np.asarray(rows, dtype=np.uint32).reshape(len(rows), neardup.NUM_PERM)


def kernel_definitions(source: str) -> list[str]:
    """The ``@wp.kernel`` definitions of a source (dedented), read by AST: nothing is run."""
    from curator.ingest.discover import kernel_defs

    try:
        return [textwrap.dedent(d.source) for d in kernel_defs(source)]
    except (SyntaxError, ValueError):
        return []


# What a kept row of kernel_def_minhash was made with (a row of other parameters is made again).
DEF_PARAMS = f"kernel-defs v1 perm={neardup.NUM_PERM} seed={neardup.MINHASH_SEED} shingle={neardup.SHINGLE}"
PARALLEL_FROM = 1000  # kernels to sign before a pool of processes pays for its start-up


def definitions_hashvalues(source: str) -> bytes:
    """The MinHash values of each ``@wp.kernel`` definition of ``source`` (rows of NUM_PERM
    little-endian uint32, as kept in kernel_def_minhash; empty when it has none)."""

    defs = kernel_definitions(source)
    return _hashvalues(defs).astype("<u4").tobytes() if defs else b""


def _sign_definitions(sources: list[str]) -> list[bytes]:
    """``definitions_hashvalues`` of each source; over PARALLEL_FROM sources, on every core."""
    cores = os.cpu_count() or 1
    if len(sources) < PARALLEL_FROM or cores < 2:
        return [definitions_hashvalues(s) for s in sources]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(definitions_hashvalues, sources, chunksize=max(1, len(sources) // (8 * cores))))


def _definitions(store: Store, origin: str, ids: list[str]) -> dict[str, bytes]:
    """kernel id -> its definitions' MinHash values: kept ones read, missing ones made (and kept
    unless the store is read-only), so each kernel's source is parsed once, not every export."""
    kept = store.kernel_def_minhashes(origin, DEF_PARAMS)
    missing = [k for k in ids if k not in kept]
    if missing:
        sources = store.kernel_sources(missing)
        made = dict(zip(missing, _sign_definitions([sources.get(k, "") for k in missing]), strict=True))
        if not store.readonly:
            store.write_kernel_def_minhashes(DEF_PARAMS, made.items())
        kept.update(made)
    return kept


def _store_hashvalues(store: Store, origin: str) -> tuple[list[tuple], np.ndarray, list[int]]:
    """The store rows of ``origin`` (id, category, skeleton, BLOB), their MinHash values (the
    stored whole-source signatures, missing ones from source, then one row per kernel
    definition of each) and the index of the store row each MinHash row belongs to."""
    import numpy as np

    rows = store.signature_rows(origin)
    hv, bad_rows = neardup.hashvalues_of_blobs([r[3] for r in rows])
    if bad_rows:
        sources = store.kernel_sources(rows[i][0] for i in bad_rows)
        for i in bad_rows:
            tokens = neardup.normalize_tokens(sources.get(rows[i][0], ""))
            hv[i] = np.asarray(neardup.minhash_of_tokens(tokens).hashvalues, dtype=np.uint32)
    defs = _definitions(store, origin, [r[0] for r in rows])
    parts, owners = [hv], list(range(len(rows)))
    for i, row in enumerate(rows):
        if defs[row[0]]:
            block = np.frombuffer(defs[row[0]], dtype="<u4").reshape(-1, neardup.NUM_PERM)
            parts.append(block)
            owners += [i] * len(block)
    return rows, np.concatenate(parts).astype(np.uint32), owners


def store_reference(store: Store) -> Reference:
    """The real kernels of the store (`curator ingest`)."""
    rows, hv, _ = _store_hashvalues(store, "real")
    packages = store.origin_packages("real")
    named = ", ".join(f"{p or 'files'} {n:,}" for p, n in packages.items())
    desc = f"the {len(rows):,} real kernels in the store (curator ingest: {named or 'none'})"
    return Reference(desc, len(rows), hv)


def _jsonl_sources(path: Path) -> list[str]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                raise BadReference(f"--reference {path}: line {n} is not JSON") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("source"), str):
                raise BadReference(f"--reference {path}: line {n} has no string field 'source'")
            out.append(obj["source"])
    return out


def _python_sources(files: list[Path]) -> list[str]:
    """Each ``@wp.kernel`` definition of the files."""
    out = []
    for f in files:
        try:
            out += kernel_definitions(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue  # unreadable: it holds no kernel we could compare
    return out


def path_reference(path: Path) -> Reference:
    """Kernels from a JSONL file (a ``source`` field per line, as in an export), a Python file
    or a folder of them (every ``@wp.kernel`` definition)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.py") if p.is_file())
        sources, kind = _python_sources(files), f"the @wp.kernel definitions in {len(files):,} Python files under"
    elif path.is_file() and path.suffix == ".py":
        sources, kind = _python_sources([path]), "the @wp.kernel definitions in"
    elif path.is_file():
        sources, kind = _jsonl_sources(path), "the `source` of each line of"
    else:
        raise BadReference(f"--reference {path}: no such file or folder")
    if not sources:
        raise BadReference(f"--reference {path}: holds no kernel to compare against")
    rows = sources + [d for s in sources for d in kernel_definitions(s) if d.strip() != s.strip()]
    return Reference(f"{len(sources):,} kernels: {kind} {path.name or path}", len(sources), _hashvalues(rows))


def contaminated(store: Store, ref: Reference, threshold: float) -> dict[str, str]:
    """Synthetic kernel id -> category, for those within ``threshold`` (estimated Jaccard of
    the normalised source) of some reference kernel: whole source or kernel definition."""
    if not ref.kernels or not store.signature_rows("synthetic"):
        return {}
    rows, hv, owners = _store_hashvalues(store, "synthetic")
    hits = {owners[i] for i in neardup.near_reference(ref.hashvalues, hv, threshold)}
    return {rows[i][0]: rows[i][1] for i in sorted(hits)}


def summary(ref: Reference, threshold: float, checked: int, dropped: dict[str, str]) -> dict:
    """The manifest's ``decontamination`` section."""
    return {
        "reference": ref.description,
        "reference_kernels": ref.kernels,
        "threshold": threshold,
        "synthetic_checked": checked,
        "dropped": len(dropped),
        "dropped_by_category": dict(sorted(Counter(dropped.values()).items())),
    }
