"""Store queries for near-duplicate clusters (dedup_clusters, dedup_state) and for export."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from curator.store.base import now

# Review statuses an export can ask for: 'accepted' only, or everything not rejected.
EXPORT_STATUSES = ("unrejected", "accepted")


@dataclass(frozen=True)
class ExportFilter:
    """Which kernels of one device an export may pick.  Rejected kernels never qualify.

    ``verified_only`` is the hook for `curator export --verified-only`: a kernel qualifies
    when it has at least one passing verification for the device and no failing one.
    """

    device: str
    status: str = "unrejected"
    categories: tuple[str, ...] = ()
    verified_only: bool = False
    origin: str = "all"  # synthetic | real | all (kernels.origin)

    def where(self) -> tuple[str, list]:
        if self.status not in EXPORT_STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        clauses = ["a.device = ?"]
        params: list = [self.device]
        if self.status == "accepted":
            clauses.append("r.status = 'accepted'")
        else:
            clauses.append("(r.status IS NULL OR r.status <> 'rejected')")
        if self.categories:
            clauses.append(f"k.category IN ({', '.join('?' * len(self.categories))})")
            params.extend(self.categories)
        if self.origin != "all":
            clauses.append("k.origin = ?")
            params.append(self.origin)
        if self.verified_only:
            clauses.append(
                "EXISTS (SELECT 1 FROM verifications v WHERE v.kernel_id = k.id AND v.device = a.device"
                " AND v.ok = 1) AND NOT EXISTS (SELECT 1 FROM verifications v WHERE v.kernel_id = k.id"
                " AND v.device = a.device AND v.ok = 0)"
            )
        return " AND ".join(clauses), params


# The columns of one exported line, in order (see curator.export.records).
EXPORT_COLUMNS = (
    "k.id", "k.name", "k.category", "a.device", "k.source", "a.structs", "a.functions", "a.args", "a.forward",
    "a.backward", "a.entry", "k.launch_dim", "k.kernel_args", "k.skeleton_hash", "k.origin", "k.provenance",
    "k.seed", "k.run_seed", "k.generator_version", "a.warp_version",
)  # fmt: skip


class DedupStoreMixin:
    conn: object

    # -- dedup -------------------------------------------------------------------------
    def dedup_inputs(self) -> list[tuple[str, str, bytes | None]]:
        """(id, skeleton_hash, minhash BLOB) of every kernel, by id."""
        return self.conn.execute("SELECT id, skeleton_hash, minhash FROM kernels ORDER BY id").fetchall()

    def kernel_source(self, kernel_id: str) -> str | None:
        row = self.conn.execute("SELECT source FROM kernels WHERE id = ?", (kernel_id,)).fetchone()
        return row[0] if row else None

    def review_statuses(self) -> dict[str, str]:
        """kernel id -> its review status, for reviewed kernels with a status."""
        return dict(self.conn.execute("SELECT kernel_id, status FROM reviews WHERE status IS NOT NULL"))

    def dedup_fingerprint(self) -> str:
        """What the clusters depend on: the kernels (count, rowids) and the accepted and rejected
        reviews (they decide representatives).  Equal fingerprints mean clusters are current."""
        count, max_rowid, sum_rowid = self.conn.execute(
            "SELECT COUNT(*), COALESCE(MAX(rowid), 0), COALESCE(SUM(rowid), 0) FROM kernels"
        ).fetchone()
        h = hashlib.sha256(f"{count}:{max_rowid}:{sum_rowid}".encode())
        for kid, status in self.conn.execute(
            "SELECT kernel_id, status FROM reviews WHERE status IN ('accepted', 'rejected') ORDER BY kernel_id"
        ):
            h.update(f"|{kid}:{status}".encode())
        return h.hexdigest()[:32]

    def dedup_state(self) -> dict | None:
        """The last `curator dedup` run: threshold, num_perm, fingerprint, kernels, clusters,
        computed_at; None if clusters were never computed."""
        cur = self.conn.execute(
            "SELECT threshold, num_perm, fingerprint, kernels, clusters, computed_at FROM dedup_state WHERE id = 1"
        )
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cur.description], row, strict=True))

    def save_dedup(
        self, rows: Iterable[tuple[str, str, float]], *, threshold: float, num_perm: int, fingerprint: str
    ) -> dict:
        """Replace the stored clusters with ``rows`` (kernel id, representative, similarity)
        and record the state, atomically.  Returns the new state."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM dedup_clusters")
            conn.executemany(
                "INSERT INTO dedup_clusters (kernel_id, representative, similarity) VALUES (?, ?, ?)", rows
            )
            kernels, clusters = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT representative) FROM dedup_clusters"
            ).fetchone()
            conn.execute(
                "INSERT OR REPLACE INTO dedup_state (id, threshold, num_perm, fingerprint, kernels, clusters,"
                " computed_at) VALUES (1, ?, ?, ?, ?, ?, ?)",
                (threshold, num_perm, fingerprint, kernels, clusters, now()),
            )
        return self.dedup_state()

    def dedup_representatives(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT DISTINCT representative FROM dedup_clusters")}

    def dedup_summary(self) -> list[dict]:
        """Per category: kernels, clusters and kernels removed as near-duplicates."""
        cur = self.conn.execute(
            "SELECT k.category, COUNT(*), SUM(d.kernel_id = d.representative) FROM dedup_clusters d"
            " JOIN kernels k ON k.id = d.kernel_id GROUP BY k.category ORDER BY k.category"
        )
        return [{"category": c, "kernels": n, "clusters": r, "removed": n - r} for c, n, r in cur]

    def largest_clusters(self, limit: int = 10) -> list[tuple[str, int]]:
        """(representative, size) of the largest clusters."""
        return self.conn.execute(
            "SELECT representative, COUNT(*) AS n FROM dedup_clusters GROUP BY representative HAVING n > 1"
            " ORDER BY n DESC, representative LIMIT ?",
            (limit,),
        ).fetchall()

    # -- export ------------------------------------------------------------------------
    def export_candidates(self, flt: ExportFilter) -> list[tuple[str, str]]:
        """(id, category) of the kernels ``flt`` lets an export pick, by id."""
        where, params = flt.where()
        return self.conn.execute(
            "SELECT k.id, k.category FROM artifacts a JOIN kernels k ON k.id = a.kernel_id"
            f" LEFT JOIN reviews r ON r.kernel_id = k.id WHERE {where} ORDER BY k.id",
            params,
        ).fetchall()

    def export_rows(self, device: str, ids: Iterable[str]) -> Iterator[tuple]:
        """The EXPORT_COLUMNS of each kernel in ``ids`` for ``device``, in the order given."""
        sql = (
            f"SELECT {', '.join(EXPORT_COLUMNS)} FROM kernels k JOIN artifacts a ON a.kernel_id = k.id"
            " WHERE k.id = ? AND a.device = ?"
        )
        for kid in ids:
            row = self.conn.execute(sql, (kid, device)).fetchone()
            if row is not None:
                yield row

    def category_kernel_counts(self, device: str) -> dict[str, int]:
        """category -> kernels with code for ``device`` (whatever their review)."""
        return dict(
            self.conn.execute(
                "SELECT k.category, COUNT(*) FROM artifacts a JOIN kernels k ON k.id = a.kernel_id"
                " WHERE a.device = ? GROUP BY k.category",
                (device,),
            )
        )

    def max_run_seed(self) -> int | None:
        return self.conn.execute("SELECT MAX(run_seed) FROM kernels").fetchone()[0]
