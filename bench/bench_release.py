"""Benchmark of a training-ready release: export throughput (MiB/s) in JSONL and Parquet, and
`datasets.load_dataset(EXPORT_DIR, CONFIG)` time for both, in one run; prints figures, asserts
nothing.

    python bench/bench_release.py                           # a synthetic store in a temp folder
    python bench/bench_release.py --db curator.db --target-mb 200   # a real store

Each export writes cpu, cuda and paired with --splits train=0.9,validation=0.05,test=0.05; MiB
count the records as JSONL (what --target-mb measures) over every config and split.  Anchors:
the same records written with plain json.dumps / pyarrow.parquet.write_table, and the train
files read with pyarrow alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dedup_export import bench_signatures, build_export_store

from curator import export as exp
from curator.export import formats
from curator.measure.measures import RELEASE
from curator.store import Store

MIB = 1 << 20
SPLITS = {"train": 0.9, "validation": 0.05, "test": 0.05}


def run_export(db: Path, out: Path, fmt: str, target_mb: float) -> tuple[dict, float]:
    with Store.open(db) as s:
        opts = exp.ExportOptions(
            describe=RELEASE,
            out=out,
            devices=("cpu", "cuda"),
            target_bytes=int(target_mb * MIB),
            splits=SPLITS,
            paired=True,
            format=fmt,
            allow_short=True,
        )
        t = time.perf_counter()
        res = exp.export(s, opts)
        return res.manifest, time.perf_counter() - t


def split_figures(m: dict) -> tuple[int, int, int]:
    """(JSONL bytes, file bytes, records) over every config and split."""
    parts = [s for c in m["configs"].values() for s in c["splits"].values()]
    return sum(s["bytes"] for s in parts), sum(s["file_bytes"] for s in parts), sum(s["records"] for s in parts)


def raw_anchor(out: Path, m: dict, tmp: Path) -> tuple[float, float]:
    """Seconds to write the exported records with plain json.dumps lines and with pyarrow
    (write_table of the whole split), read back from the JSONL export."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t_json = t_pq = 0.0
    for config, c in m["configs"].items():
        for split, s in c["splits"].items():
            rows = [json.loads(x) for x in (out / s["file"]).read_text(encoding="utf-8").splitlines()]
            t = time.perf_counter()
            with (tmp / f"raw_{config}_{split}.jsonl").open("w", encoding="utf-8") as fh:
                for r in rows:
                    fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            t_json += time.perf_counter() - t
            t = time.perf_counter()
            table = pa.Table.from_pylist(rows, schema=formats.arrow_schema(c["fields"]))
            pq.write_table(table, tmp / f"raw_{config}_{split}.parquet", compression="zstd")
            t_pq += time.perf_counter() - t
    return t_json, t_pq


def load_times(out: Path, m: dict, cache: Path) -> tuple[float, float]:
    """(load_dataset of every config, pyarrow read of the train files) in seconds."""
    import datasets
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    datasets.disable_progress_bars()
    t = time.perf_counter()
    for config in m["configs"]:
        datasets.load_dataset(str(out), config, cache_dir=str(cache))
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    for c in m["configs"].values():
        path = out / c["splits"]["train"]["file"]
        pq.read_table(path) if path.suffix == ".parquet" else pj.read_json(path)
    return t_load, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", type=int, default=2000, help="kernels of the synthetic store")
    ap.add_argument("--db", type=Path, help="export this store instead of a synthetic one")
    ap.add_argument("--target-mb", type=float, default=None, help="train split per config (default 40, --db 200)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="curator-bench-") as tmp_name:
        tmp = Path(tmp_name)
        db = args.db
        if db is None:
            db = tmp / "release.db"
            build_export_store(db, bench_signatures(args.kernels))
        target = args.target_mb or (200 if args.db else 40)
        figures = {}
        for fmt in ("jsonl", "parquet"):
            m, secs = run_export(db, tmp / fmt, fmt, target)
            jsonl_bytes, file_bytes, records = split_figures(m)
            t_load, t_raw_read = load_times(tmp / fmt, m, tmp / f"cache-{fmt}")
            figures[fmt] = (m, secs, jsonl_bytes)
            print(
                f"export --format {fmt}: {records:,} records, {jsonl_bytes / MIB:,.1f} MiB as JSONL in {secs:.2f} s"
                f" = {jsonl_bytes / MIB / secs:,.1f} MiB/s; files {file_bytes / MIB:,.1f} MiB"
                f" ({file_bytes / jsonl_bytes:.2f} of JSONL)"
            )
            print(
                f"  load_dataset of cpu, cuda, paired (every split): {t_load:.2f} s; pyarrow alone reads the"
                f" train files in {t_raw_read:.2f} s"
            )
        m, secs, jsonl_bytes = figures["jsonl"]
        t_json, t_pq = raw_anchor(tmp / "jsonl", m, tmp)
        print(
            f"anchor: the same records with json.dumps {jsonl_bytes / MIB / t_json:,.1f} MiB/s, pyarrow"
            f" write_table {jsonl_bytes / MIB / t_pq:,.1f} MiB/s"
        )
        print(
            f"ratios: JSONL export / json.dumps {t_json / secs:.2f}; Parquet export / write_table "
            f"{t_pq / figures['parquet'][1]:.2f}; Parquet export / JSONL export "
            f"{secs / figures['parquet'][1]:.2f} (throughput)"
        )


if __name__ == "__main__":
    main()
