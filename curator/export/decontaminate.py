"""Decontamination: the synthetic kernels within the near-duplicate threshold of a reference
set (the real kernels in the store, or a JSONL/folder of Python), found by MinHash LSH."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from curator import neardup


class BadReference(ValueError):
    """A reference set that cannot be read (one sentence for the user)."""


@dataclass
class Reference:
    """The kernels synthetic ones are checked against."""

    description: str  # what they are, for the manifest and the card
    sources: list[str] | None  # their Python (None: signatures come from the store)
    hashvalues: object = None  # (n, NUM_PERM) uint32 MinHash values

    @property
    def kernels(self) -> int:
        return len(self.hashvalues)


def _hashvalues(sources: list[str]):
    import numpy as np

    rows = [neardup.minhash_of_tokens(neardup.normalize_tokens(s)).hashvalues for s in sources]
    return np.asarray(rows, dtype=np.uint32).reshape(len(rows), neardup.NUM_PERM)


def _store_hashvalues(store, rows: list[tuple]) -> object:
    """MinHash values of store rows (id, category, skeleton, BLOB); missing BLOBs from source."""
    import numpy as np

    hv, bad = neardup.hashvalues_of_blobs([r[3] for r in rows])
    for i in bad:
        sig = neardup.minhash_of_tokens(neardup.normalize_tokens(store.kernel_source(rows[i][0]) or ""))
        hv[i] = np.asarray(sig.hashvalues, dtype=np.uint32)
    return hv


def store_reference(store) -> Reference:
    """The real kernels of the store (`curator ingest`)."""
    rows = store.signature_rows("real")
    packages = store.origin_packages("real")
    named = ", ".join(f"{p or 'files'} {n:,}" for p, n in packages.items())
    desc = f"the {len(rows):,} real kernels in the store (curator ingest: {named or 'none'})"
    return Reference(desc, None, _store_hashvalues(store, rows))


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
    """Each ``@wp.kernel`` definition of the files (dedented), read by AST: nothing is run."""
    from curator.ingest.discover import kernel_defs

    out = []
    for f in files:
        try:
            defs = kernel_defs(f.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue  # not Python we can parse: it holds no kernel we could compare
        out += [textwrap.dedent(d.source) for d in defs]
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
    return Reference(f"{len(sources):,} kernels: {kind} {path.name or path}", sources, _hashvalues(sources))


def contaminated(store, ref: Reference, threshold: float) -> dict[str, str]:
    """Synthetic kernel id -> category, for those within ``threshold`` (estimated Jaccard of
    the normalised source) of some reference kernel."""
    rows = store.signature_rows("synthetic")
    if not rows or not ref.kernels:
        return {}
    hits = neardup.near_reference(ref.hashvalues, _store_hashvalues(store, rows), threshold)
    return {rows[i][0]: rows[i][1] for i in hits}


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
