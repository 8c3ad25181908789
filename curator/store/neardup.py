"""Store queries for near-duplicate clusters (dedup_clusters, dedup_state)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from curator.store.base import StorePart, now


class NearDupStoreMixin(StorePart):
    # -- dedup -------------------------------------------------------------------------
    def dedup_inputs(self) -> list[tuple[str, str, bytes | None]]:
        """(id, skeleton_hash, minhash BLOB) of every kernel, by id."""
        return self.conn.execute("SELECT id, skeleton_hash, minhash FROM kernels ORDER BY id").fetchall()

    def signature_rows(self, origin: str) -> list[tuple[str, str, str, bytes | None]]:
        """(id, category, skeleton_hash, minhash BLOB) of the kernels of ``origin``, by id."""
        return self.conn.execute(
            "SELECT id, category, skeleton_hash, minhash FROM kernels WHERE origin = ? ORDER BY id", (origin,)
        ).fetchall()

    def origin_packages(self, origin: str) -> dict[str, int]:
        """package (from the provenance; '' when none) -> kernels of ``origin``."""
        return dict(
            self.conn.execute(
                "SELECT COALESCE(json_extract(provenance, '$.package'), ''), COUNT(*) FROM kernels"
                " WHERE origin = ? GROUP BY 1 ORDER BY 1",
                (origin,),
            )
        )

    def kernel_def_minhashes(self, origin: str, params: str) -> dict[str, bytes]:
        """kernel id -> the kept MinHash values of its @wp.kernel definitions (table
        kernel_def_minhash), for the kernels of ``origin`` whose row was made with ``params``."""
        return dict(
            self.conn.execute(
                "SELECT d.kernel_id, d.hashvalues FROM kernel_def_minhash d JOIN kernels k ON k.id = d.kernel_id"
                " WHERE k.origin = ? AND d.params = ?",
                (origin, params),
            )
        )

    def write_kernel_def_minhashes(self, params: str, rows: Iterable[tuple[str, bytes]]) -> int:
        """Keep (kernel id, definitions' MinHash values) made with ``params``, replacing older rows."""
        sql = "INSERT OR REPLACE INTO kernel_def_minhash (kernel_id, params, hashvalues) VALUES (?, ?, ?)"
        with self.transaction():
            before = self.conn.total_changes
            self.conn.executemany(sql, ((kid, params, blob) for kid, blob in rows))
            return self.conn.total_changes - before

    def kernel_sources(self, ids: Iterable[str]) -> dict[str, str]:
        """kernel id -> source, for those of ``ids`` in the store."""
        return dict(self._rows_in("SELECT id, source FROM kernels WHERE id IN ({})", ids))

    def cluster_representatives(self) -> dict[str, str]:
        """kernel id -> its stored cluster representative (from the last `curator dedup`)."""
        return dict(self.conn.execute("SELECT kernel_id, representative FROM dedup_clusters"))

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
        return self._dict(
            "SELECT threshold, num_perm, fingerprint, kernels, clusters, computed_at FROM dedup_state WHERE id = 1"
        )

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
        state = self.dedup_state()
        assert state is not None  # written just above
        return state

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
