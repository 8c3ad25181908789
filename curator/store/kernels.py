"""Store queries for kernels, their per-device artifacts, failures, runs and statistics."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from curator.records import PIECES as PIECE_COLUMNS
from curator.records import FailureRecord, KernelRecord
from curator.store.base import StorePart, now


def _kernel_row(k: KernelRecord, stamp: str) -> dict:
    return {
        "id": k.id,
        "name": k.name,
        "category": k.category,
        "source": k.source,
        "origin": k.origin,
        "provenance": json.dumps(k.provenance, sort_keys=True) if k.provenance else None,
        "seed": k.seed,
        "run_seed": k.run_seed,
        "run_index": k.run_index,
        "generator_version": k.generator_version,
        "launch_dim": k.launch_dim,
        "kernel_args": json.dumps(k.kernel_args) if k.kernel_args is not None else None,
        "skeleton_hash": k.skeleton_hash,
        "minhash": k.minhash,
        "created_at": stamp,
    }


def _artifact_row(kernel_id: str, device: str, art: dict, stamp: str) -> dict:
    pieces = art["pieces"]
    row = {"kernel_id": kernel_id, "device": device} | {p: pieces[p] for p in PIECE_COLUMNS}
    row["bytes"] = sum(len(pieces[p].encode()) for p in PIECE_COLUMNS)
    return row | {"warp_version": art["warp_version"], "codegen_ms": art["codegen_ms"], "created_at": stamp}


@dataclass
class WriteCounts:
    kernels: int = 0
    artifacts: int = 0
    duplicates: int = 0
    failures: int = 0
    bytes: dict[str, int] = field(default_factory=dict)  # device -> bytes of new artifacts


class KernelStoreMixin(StorePart):
    if TYPE_CHECKING:  # MeasuresStoreMixin's, beside this one in curator.store.Store

        def _insert_builtin_signatures(self, rows: Iterable[tuple[str, str, list[str]]]) -> int: ...

    # -- what is there -----------------------------------------------------------------
    def kernel_devices(self) -> dict[str, set[str]]:
        """kernel id -> the devices it has artifacts for."""
        out: dict[str, set[str]] = {}
        for kid, device in self.conn.execute("SELECT kernel_id, device FROM artifacts"):
            out.setdefault(kid, set()).add(device)
        for (kid,) in self.conn.execute("SELECT id FROM kernels"):
            out.setdefault(kid, set())
        return out

    def kernel_ids(self, *, origin: str | None = None, categories: tuple[str, ...] = ()) -> list[str]:
        """Every kernel id, in id order; only those of ``origin`` ('synthetic' or 'real') and of
        one of ``categories`` when given."""
        where, values = [], []
        if origin is not None:
            where.append("origin = ?")
            values.append(origin)
        if categories:
            where.append(f"category IN ({', '.join('?' * len(categories))})")
            values.extend(categories)
        sql = "SELECT id FROM kernels" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        return [r[0] for r in self.conn.execute(sql, values)]

    def shortest_paired_kernel(self) -> str | None:
        """The kernel with code for both devices whose source + CPU forward is shortest."""
        row = self.conn.execute(
            "SELECT k.id FROM kernels k JOIN artifacts a ON a.kernel_id = k.id AND a.device = 'cpu'"
            " WHERE EXISTS (SELECT 1 FROM artifacts c WHERE c.kernel_id = k.id AND c.device = 'cuda')"
            " ORDER BY length(k.source) + length(a.forward), k.id LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    def warp_versions(self) -> list[str]:
        """The Warp versions that generated the stored code, sorted."""
        return sorted(r[0] for r in self.conn.execute("SELECT DISTINCT warp_version FROM artifacts"))

    def category_skeletons(self) -> dict[str, set[str]]:
        """category -> the distinct normalised-skeleton hashes of its kernels."""
        out: dict[str, set[str]] = {}
        for category, skeleton in self.conn.execute("SELECT category, skeleton_hash FROM kernels"):
            out.setdefault(category, set()).add(skeleton)
        return out

    def failed_ids(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT DISTINCT kernel_id FROM failures")}

    def device_bytes(self, device: str) -> int:
        row = self.conn.execute("SELECT COALESCE(SUM(bytes), 0) FROM artifacts WHERE device = ?", (device,))
        return row.fetchone()[0]

    def count_kernels(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM kernels").fetchone()[0]

    # -- writing -----------------------------------------------------------------------
    def write_batch(
        self, kernels: Iterable[KernelRecord], failures: Iterable[FailureRecord], run_id: int | None
    ) -> WriteCounts:
        """Store a batch atomically: each kernel with all its artifacts, or nothing.  Rows
        already stored are kept as they are (content-hash ids make a rerun add nothing)."""
        kernels, failures = list(kernels), list(failures)
        counts = WriteCounts()
        stamp = now()
        with self.transaction():
            ids = [k.id for k in kernels]
            have_kernels = self._existing("SELECT id FROM kernels WHERE id IN ({})", ids)
            have_artifacts = {
                tuple(r) for r in self._rows("SELECT kernel_id, device FROM artifacts WHERE kernel_id IN ({})", ids)
            }
            kernel_rows, artifact_rows, seen = [], [], set()
            for k in kernels:
                new_kernel = k.id not in have_kernels and k.id not in seen
                if new_kernel:
                    seen.add(k.id)
                    kernel_rows.append(_kernel_row(k, stamp))
                new_artifacts = 0
                for device, art in sorted(k.artifacts.items()):
                    if (k.id, device) in have_artifacts:
                        continue
                    have_artifacts.add((k.id, device))
                    row = _artifact_row(k.id, device, art, stamp)
                    artifact_rows.append(row)
                    new_artifacts += 1
                    counts.bytes[device] = counts.bytes.get(device, 0) + row["bytes"]
                counts.kernels += new_kernel
                counts.artifacts += new_artifacts
                if not new_kernel and not new_artifacts:
                    counts.duplicates += 1
            self._insert_rows("kernels", kernel_rows)
            self._insert_rows("artifacts", artifact_rows)
            self._insert_builtin_signatures(
                (k.id, k.artifacts[min(k.artifacts)]["warp_version"], k.builtin_signatures)
                for k in kernels
                if k.builtin_signatures is not None and k.artifacts
            )
            counts.failures = self._write_failures(failures, run_id, stamp)
        return counts

    def _write_failures(self, failures: list[FailureRecord], run_id: int | None, stamp: str) -> int:
        """Insert the failures not yet recorded (one row per kernel and stage); returns how many."""
        keys = [(f.kernel_id, f.stage) for f in failures]
        have = {
            tuple(r)
            for r in self._rows("SELECT kernel_id, stage FROM failures WHERE kernel_id IN ({})", [k for k, _ in keys])
        }
        rows = []
        for f, key in zip(failures, keys, strict=True):
            if key not in have:
                have.add(key)
                rows.append(
                    {
                        "kernel_id": f.kernel_id,
                        "category": f.category,
                        "seed": f.seed,
                        "stage": f.stage,
                        "exc_type": f.exc_type,
                        "message": f.message,
                        "source": f.source,
                        "run_id": run_id,
                        "created_at": stamp,
                    }
                )
        self._insert_rows("failures", rows)
        return len(rows)

    def _insert_rows(self, table: str, rows: list[dict]) -> None:
        """Insert rows (dicts with the same keys, values SQLite takes as they are) in one
        ``executemany``: plain sqlite3 rather than sqlite-utils, whose import (it pulls in pandas when
        installed) cost every generate run about half a second before its first batch was stored."""
        if not rows:
            return
        columns = list(rows[0])
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        self.conn.executemany(sql, [tuple(r[c] for c in columns) for r in rows])

    def _rows(self, sql: str, values: list) -> list[Any]:
        return list(self._rows_in(sql, values))

    def _existing(self, sql: str, values: list) -> set[Any]:
        return {r[0] for r in self._rows_in(sql, values)}

    # -- reading -----------------------------------------------------------------------
    def get_kernel(self, kernel_id: str) -> dict | None:
        return self._dict("SELECT * FROM kernels WHERE id = ?", (kernel_id,))

    def get_artifact(self, kernel_id: str, device: str) -> dict | None:
        return self._dict("SELECT * FROM artifacts WHERE kernel_id = ? AND device = ?", (kernel_id, device))

    def categories(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT category FROM kernels ORDER BY category")]

    def sources(self, category: str | None = None) -> Iterable[tuple[str, str, str]]:
        """(id, category, source) of every kernel, optionally of one category."""
        if category is None:
            return self.conn.execute("SELECT id, category, source FROM kernels ORDER BY id")
        return self.conn.execute("SELECT id, category, source FROM kernels WHERE category = ? ORDER BY id", (category,))

    def stats(self) -> list[dict]:
        """Per device and category: kernels, bytes, distinct skeletons (failures separately)."""
        cur = self.conn.execute(
            "SELECT a.device, k.category, COUNT(*), SUM(a.bytes), COUNT(DISTINCT k.skeleton_hash)"
            " FROM artifacts a JOIN kernels k ON k.id = a.kernel_id GROUP BY a.device, k.category"
            " ORDER BY a.device, k.category"
        )
        return [{"device": d, "category": c, "kernels": n, "bytes": b, "skeletons": s} for d, c, n, b, s in cur]

    def failure_counts(self) -> dict[str, int]:
        """category -> number of distinct generated kernels that failed codegen (ingest's
        skipped real kernels are counted by ingest_skip_counts)."""
        cur = self.conn.execute(
            "SELECT COALESCE(category, '?'), COUNT(DISTINCT kernel_id) FROM failures"
            " WHERE stage NOT LIKE 'ingest-%' GROUP BY 1"
        )
        return dict(cur.fetchall())

    def ingest_skip_counts(self) -> dict[str, int]:
        """'stage: reason' -> count of real kernels or modules `curator ingest` skipped."""
        cur = self.conn.execute(
            "SELECT stage || ': ' || exc_type, COUNT(*) FROM failures WHERE stage LIKE 'ingest-%'"
            " GROUP BY 1 ORDER BY 2 DESC"
        )
        return dict(cur.fetchall())

    def origin_counts(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT origin, COUNT(*) FROM kernels GROUP BY origin ORDER BY origin"))

    def category_origin_counts(self) -> dict[str, dict[str, int]]:
        """category -> origin (synthetic, real) -> kernels."""
        out: dict[str, dict[str, int]] = {}
        for cat, origin, n in self.conn.execute("SELECT category, origin, COUNT(*) FROM kernels GROUP BY 1, 2"):
            out.setdefault(cat, {})[origin] = n
        return out

    def failures(self, limit: int = 20) -> list[dict]:
        return self._dicts(
            "SELECT kernel_id, category, stage, exc_type, message FROM failures ORDER BY id LIMIT ?", (limit,)
        )
