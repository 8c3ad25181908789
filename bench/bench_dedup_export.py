"""Benchmarks of near-dedup and export; prints figures, asserts nothing.

    python bench/bench_dedup_export.py                      # synthetic stores in a temp folder
    python bench/bench_dedup_export.py --db curator.db --target-mb 200   # export a real store

1. MinHash signatures/s at generation (normalise + shingle + MinHash of generated kernels).
2. `curator dedup` of N stored signatures (default 50,000): real signatures of generated kernels
   plus near and far variants of them, stored as BLOBs, then parsed, LSH-clustered and saved.
3. Export MiB/s: balanced JSONL per device (a synthetic store with ~36 KB lines, or --db).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curator import export as exp
from curator import neardup
from curator.kernels import CATEGORIES, generate_kernel
from curator.measure.measures import RELEASE
from curator.records import kernel_id
from curator.store import KernelRecord, Store

MIB = 1 << 20


def bench_signatures(n: int) -> list[tuple[str, str, str, bytes, str]]:
    specs = [generate_kernel(i, CATEGORIES[i % len(CATEGORIES)]) for i in range(n)]
    t = time.perf_counter()
    out = []
    for s in specs:
        tokens = neardup.normalize_tokens(s.source)
        out.append(
            (s.name, s.category, s.source, neardup.signature_of_tokens(tokens), neardup.skeleton_hash_of_tokens(tokens))
        )
    secs = time.perf_counter() - t
    t = time.perf_counter()
    for s in specs[: n // 4]:
        neardup.signature_of_tokens(neardup.normalize_tokens(s.source))
    print(
        f"signatures at generation: {n / secs:,.0f} kernels/s (normalise + shingle + MinHash, {n:,} kernels, "
        f"mean source {sum(len(s.source) for s in specs) / n:,.0f} chars)"
    )
    return out


def variants(base: list[tuple], total: int, seed: int = 0) -> list[tuple[str, str, bytes]]:
    """(id, skeleton_hash, BLOB): the base signatures plus variants with k of 128 hash values
    changed (k random in 0..64: near-duplicates and distinct ones), up to ``total``."""
    rng = np.random.default_rng(seed)
    blobs = [b for *_, b, _ in base]
    hv, _ = neardup.hashvalues_of_blobs(blobs)
    header = blobs[0][: len(blobs[0]) - 4 * neardup.NUM_PERM]
    rows = [(kernel_id(src), skel, blob) for _n, _c, src, blob, skel in base]
    i = 0
    while len(rows) < total:
        src = hv[i % len(hv)].copy()
        k = int(rng.integers(0, 65))
        pos = rng.choice(neardup.NUM_PERM, size=k, replace=False)
        src[pos] = rng.integers(0, 2**32, size=k, dtype=np.uint32)
        rows.append((f"v{i:08d}", f"skel-v{i}", header + src.astype("=u4").tobytes()))
        i += 1
    return rows


def bench_dedup(tmp: Path, base: list[tuple], total: int) -> None:
    rows = variants(base, total)
    db = tmp / "neardup.db"
    with Store.open(db, create=True) as s:
        recs = [
            KernelRecord(
                id=k,
                name=k,
                category=CATEGORIES[j % len(CATEGORIES)],
                source="",
                skeleton_hash=sk,
                minhash=b,
                artifacts={},
            )
            for j, (k, sk, b) in enumerate(rows)
        ]
        s.write_batch(recs, [], None)
        t = time.perf_counter()
        blobs = [r[2] for r in s.dedup_inputs()]
        t_read = time.perf_counter() - t
        t = time.perf_counter()
        neardup.hashvalues_of_blobs(blobs)
        t_parse = time.perf_counter() - t
        t = time.perf_counter()
        from datasketch import LeanMinHash

        for b in blobs[:5000]:
            LeanMinHash.deserialize(b)
        t_deser = (time.perf_counter() - t) * len(blobs) / 5000
        t = time.perf_counter()
        run = neardup.compute_clusters(s, neardup.DEFAULT_THRESHOLD)
        t_cluster = time.perf_counter() - t
        t = time.perf_counter()
        neardup.save_clusters(s, run)
        t_save = time.perf_counter() - t
    c = run.clusters
    print(
        f"dedup of {c.kernels:,} stored signatures: {t_cluster + t_save:.2f} s "
        f"(cluster {t_cluster:.2f} s incl. read {t_read:.2f} s; save {t_save:.2f} s) -> {c.clusters:,} clusters, "
        f"{c.removed:,} near-duplicates"
    )
    print(f"  parsing {len(blobs):,} BLOBs: numpy {t_parse:.3f} s vs LeanMinHash.deserialize ~{t_deser:.2f} s")


def build_export_store(db: Path, base: list[tuple], line_kb: int = 36) -> None:
    """A store of the generated sources with filler code pieces of about ``line_kb`` KB."""
    rng = random.Random(1)
    words = ["float", "int32", "var_0", "adj_1", "wp::add", "wp::mul", "(", ")", ";", "=", "{", "}", "\n"]
    recs = []
    for name, cat, src, blob, skel in base:
        n = int(line_kb * 1024 * rng.uniform(0.5, 1.5) / 6 / 6)
        pieces = {
            p: " ".join(rng.choices(words, k=n))
            for p in ("structs", "functions", "args", "forward", "backward", "entry")
        }
        arts = {d: {"pieces": pieces, "codegen_ms": 1.0, "warp_version": "1.19.0"} for d in ("cpu", "cuda")}
        recs.append(
            KernelRecord(
                id=kernel_id(src), name=name, category=cat, source=src, skeleton_hash=skel, minhash=blob, artifacts=arts
            )
        )
    with Store.open(db, create=True) as s:
        for i in range(0, len(recs), 500):
            s.write_batch(recs[i : i + 500], [], None)


def bench_export(db: Path, out: Path, target_mb: float, dedup_flag: bool) -> None:
    with Store.open(db) as s:
        opts = exp.ExportOptions(
            describe=RELEASE,
            out=out,
            devices=("cpu", "cuda"),
            target_bytes=int(target_mb * MIB),
            dedup=dedup_flag,
            allow_short=True,
        )
        t = time.perf_counter()
        res = exp.export(s, opts)
        secs = time.perf_counter() - t
    written = sum(d["bytes"] for d in res.manifest["devices"].values())
    per = ", ".join(
        f"{k} {d['bytes'] / MIB:.2f} MiB / {d['records']:,} lines" for k, d in res.manifest["devices"].items()
    )
    print(
        f"export{' --dedup' if dedup_flag else ''} --target-mb {target_mb:g}: {written / MIB:.1f} MiB in {secs:.2f} s"
        f" = {written / MIB / secs:,.1f} MiB/s ({per}){' SHORT' if res.shortfalls else ''}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", type=int, default=5000, help="generated kernels to sign (and to export)")
    ap.add_argument("--signatures", type=int, default=50_000, help="stored signatures to dedup")
    ap.add_argument("--db", type=Path, help="export this store instead of a synthetic one")
    ap.add_argument("--target-mb", type=float, default=None, help="export target per device")
    ap.add_argument("--dedup", action="store_true", help="export with --dedup")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="curator-bench-") as tmp_name:
        tmp = Path(tmp_name)
        base = bench_signatures(args.kernels)
        bench_dedup(tmp, base, args.signatures)
        if args.db:
            bench_export(args.db, tmp / "exports", args.target_mb or 200, args.dedup)
        else:
            db = tmp / "export.db"
            build_export_store(db, base)
            bench_export(db, tmp / "exports", args.target_mb or 150, args.dedup)


if __name__ == "__main__":
    main()
