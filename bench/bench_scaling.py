"""The ceilings of the single-writer design, for docs/scaling.md.  Prints figures; asserts nothing.

    python bench/bench_scaling.py [--writer-kernels 2000] [--signatures 100000,1000000]

1. Single-writer ingest rate: real generated records (Warp codegen of a few kernels, cloned
   with distinct sources and ids) written through Store.write_batch in generate's batches of
   16, as the driver writes them: kernels/s and MiB/s of stored code, and the store's size on
   disk per kernel (extrapolated to a million kernels); then `curator merge`'s rate on it.
2. Near-dup dedup time and peak memory at N synthetic MinHash signatures (curator.neardup:
   BLOB parsing + LSH clustering), each size in a fresh process so its peak RSS is its own.
   The anchor is the same code on 100k: the 1M/100k time ratio shows how it scales.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curator import generate, neardup
from curator.kernels import CATEGORIES, generate_kernel
from curator.records import kernel_id
from curator.store import KernelRecord, Store

MIB = 1 << 20
BATCH = generate.BATCH_SIZE


def real_records(n: int, seed: int = 3) -> list[KernelRecord]:
    """n real records: generator + Warp codegen for both devices + signing, in this process."""
    from curator.warp import init_warp

    init_warp()
    out = []
    for index, category, kseed in generate.plan(seed, CATEGORIES):
        if len(out) == n:
            break
        rec = generate.record_for_spec(generate_kernel(kseed, category), seed, index, ("cpu", "cuda"))
        if isinstance(rec, KernelRecord):
            out.append(rec)
    return out


def clone(rec: KernelRecord, i: int) -> KernelRecord:
    source = f"{rec.source}# clone {i}\n"
    return KernelRecord(**(vars(rec) | {"id": kernel_id(source), "source": source, "run_index": i}))


def bench_writer(total: int, folder: Path, base: int = 32) -> dict:
    """Write ``total`` records through the store's batch writer; the rates and the file size."""
    records = real_records(base)
    db = folder / "writer.db"
    code = 0
    with Store.open(db, create=True) as store:
        run = store.start_run("bench", {})
        batches = [
            [clone(records[i % base], i) for i in range(s, min(s + BATCH, total))] for s in range(0, total, BATCH)
        ]
        t = time.perf_counter()
        for batch in batches:
            counts = store.write_batch(batch, [], run)
            code += sum(counts.bytes.values())
        secs = time.perf_counter() - t
        store.finish_run(run, "done", {})
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db.stat().st_size
    per_kernel = size / total
    out = {
        "kernels": total,
        "seconds": secs,
        "kernels_s": total / secs,
        "code_mib_s": code / MIB / secs,
        "code_per_kernel": code / total,
        "file_per_kernel": per_kernel,
    }
    print(
        f"single writer: {total:,} kernels (both devices) in {secs:.2f} s = {out['kernels_s']:,.0f} kernels/s, "
        f"{out['code_mib_s']:,.1f} MiB/s of code ({code / total / 1024:,.1f} KiB of code per kernel, batches of "
        f"{BATCH})"
    )
    print(
        f"  store on disk: {size / MIB:,.1f} MiB = {per_kernel / 1024:,.1f} KiB per kernel -> "
        f"{per_kernel * 1e6 / (1 << 30):,.0f} GiB per million kernels, "
        f"{per_kernel * 1e7 / (1 << 40):,.2f} TiB for 10 million"
    )
    from curator.store.merge import merge_into

    with Store.open(folder / "merged.db", create=True) as merged:
        t = time.perf_counter()
        counts = merge_into(merged, db)
        msecs = time.perf_counter() - t
    out["merge_kernels_s"] = counts.kernels / msecs
    print(
        f"  curator merge of that store into an empty one: {msecs:.2f} s = {counts.kernels / msecs:,.0f} kernels/s, "
        f"{size / MIB / msecs:,.1f} MiB/s of store"
    )
    return out


def synthetic_signatures(n: int, seed: int = 0) -> tuple[list[str], list[bytes], list[str]]:
    """n signature BLOBs in curator's format: half distinct random rows, half variants of them
    with 0..64 of 128 hash values changed (near-duplicates and far ones)."""
    rng = np.random.default_rng(seed)
    header = neardup.signature_of_tokens(["x"])[: -4 * neardup.NUM_PERM]
    base = rng.integers(0, 2**32, size=((n + 1) // 2, neardup.NUM_PERM), dtype=np.uint32)
    variants = base[rng.integers(0, len(base), size=n - len(base))].copy()
    changed = rng.integers(0, 65, size=len(variants))
    for row, k in zip(variants, changed, strict=True):
        pos = rng.choice(neardup.NUM_PERM, size=int(k), replace=False)
        row[pos] = rng.integers(0, 2**32, size=int(k), dtype=np.uint32)
    rows = np.concatenate([base, variants]).astype("=u4")
    blobs = [header + r.tobytes() for r in rows]
    return [f"k{i:09d}" for i in range(n)], blobs, [f"s{i}" for i in range(n)]


def dedup_once(n: int) -> None:
    """(in a child process) time and peak memory of curator's dedup of n signatures."""
    ids, blobs, skels = synthetic_signatures(n)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    hv, _ = neardup.hashvalues_of_blobs(blobs)
    t_parse = time.perf_counter() - t
    clusters = neardup.cluster(ids, hv, skels, neardup.DEFAULT_THRESHOLD)
    secs = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"dedup of {n:,} signatures: {secs:,.1f} s (parse {t_parse:.1f} s), peak RSS {rss / 1024:,.0f} MiB "
        f"({(rss - rss0) / 1024:,.0f} MiB above the inputs), {clusters.clusters:,} clusters, "
        f"{clusters.removed:,} near-duplicates",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writer-kernels", type=int, default=2000)
    ap.add_argument("--signatures", default="100000,1000000", help="comma-separated sizes ('' skips dedup)")
    ap.add_argument("--dedup-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.dedup_child:
        dedup_once(args.dedup_child)
        return
    print(f"cores: {os.cpu_count()}; figures from one run on a shared machine")
    if args.writer_kernels:
        with tempfile.TemporaryDirectory() as tmp:
            bench_writer(args.writer_kernels, Path(tmp))
    for n in [int(x) for x in args.signatures.split(",") if x]:
        subprocess.run([sys.executable, __file__, "--dedup-child", str(n)], check=True)


if __name__ == "__main__":
    main()
