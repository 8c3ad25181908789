"""Store queries for human review (labels, notes and their history) and for browsing: category
counts, keyset-paged kernel lists, full-text search, near-dup clusters and verification state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from curator.store.base import StorePart, now, row_dict
from curator.store.kernels import PIECE_COLUMNS

REVIEW_STATES = ("accepted", "rejected", "flagged")
# What the kernel list can be filtered on: every kernel, the unlabelled ones, one label, or the
# kernels that failed a verification (a compile, a CPU run or the adjoint check).
REVIEW_FILTERS = ("all", "unreviewed", *REVIEW_STATES, "failing")
_FAILING = (
    "(EXISTS (SELECT 1 FROM verifications v WHERE v.kernel_id = k.id AND v.ok = 0)"
    " OR EXISTS (SELECT 1 FROM executions e WHERE e.kernel_id = k.id"
    " AND (e.status NOT IN ('ran', 'not-runnable', 'refused') OR e.grad = 'fail')))"
)
# A note left untouched by set_review (None means "no note").
KEEP = object()


@dataclass(frozen=True)
class KernelRow:
    """One line of the kernel list; ``rowid`` is the keyset-pagination key."""

    rowid: int
    id: str
    name: str
    category: str
    status: str | None


@dataclass
class CategoryCounts:
    category: str
    kernels: int = 0
    accepted: int = 0
    rejected: int = 0
    flagged: int = 0

    @property
    def reviewed(self) -> int:
        return self.accepted + self.rejected + self.flagged


@dataclass
class KernelDetail:
    """Everything the browser shows for one kernel, read in one go."""

    id: str
    name: str
    category: str
    source: str
    seed: int | None
    launch_dim: int
    status: str | None
    note: str | None
    reviewed_at: str | None
    artifacts: dict[str, dict[str, str]] = field(default_factory=dict)  # device -> piece -> code
    verifications: list[dict] = field(default_factory=list)
    executions: list[dict] = field(default_factory=list)  # CPU runs (curator verify --execute)


@dataclass(frozen=True)
class ClusterMember:
    id: str
    name: str
    category: str
    similarity: float  # estimated Jaccard to the cluster representative
    representative: bool


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 prefix phrase: any characters are safe (quotes are doubled)."""
    return '"' + text.replace('"', '""') + '"*'


def _filter_sql(category: str | None, status: str) -> tuple[str, list]:
    if status not in REVIEW_FILTERS:
        raise ValueError(f"unknown review filter {status!r}; expected one of {', '.join(REVIEW_FILTERS)}")
    where, params = [], []
    if category is not None:
        where.append("k.category = ?")
        params.append(category)
    if status == "unreviewed":
        where.append("r.status IS NULL")
    elif status == "failing":
        where.append(_FAILING)
    elif status != "all":
        where.append("r.status = ?")
        params.append(status)
    return " AND ".join(where) or "1", params


class ReviewStoreMixin(StorePart):
    if TYPE_CHECKING:  # ExecutionStoreMixin's, beside this one in curator.store.Store

        def kernel_executions(self, kernel_id: str) -> list[dict]: ...

    # -- labels ------------------------------------------------------------------------
    def set_review(self, kernel_id: str, status: str | object | None = KEEP, note: str | object | None = KEEP) -> None:
        """Set a kernel's label (None clears it) and/or note, and log the change; one transaction."""
        if status is not KEEP and status is not None and status not in REVIEW_STATES:
            raise ValueError(f"unknown review status {status!r}; expected one of {', '.join(REVIEW_STATES)}")
        stamp = now()
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM kernels WHERE id = ?", (kernel_id,)).fetchone() is None:
                raise KeyError(kernel_id)
            old = conn.execute("SELECT status, note FROM reviews WHERE kernel_id = ?", (kernel_id,)).fetchone()
            old_status, old_note = old if old else (None, None)
            new_status = old_status if status is KEEP else status
            new_note = old_note if note is KEEP else (note or None)
            conn.execute(
                "INSERT INTO reviews (kernel_id, status, note, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (kernel_id) DO UPDATE SET status = excluded.status, note = excluded.note,"
                " updated_at = excluded.updated_at",
                (kernel_id, new_status, new_note, stamp),
            )
            conn.execute(
                "INSERT INTO review_events (kernel_id, status, note, at) VALUES (?, ?, ?, ?)",
                (kernel_id, new_status, new_note, stamp),
            )

    def review_of(self, kernel_id: str) -> dict | None:
        return self._dict("SELECT status, note, updated_at FROM reviews WHERE kernel_id = ?", (kernel_id,))

    def review_events(self, kernel_id: str) -> list[dict]:
        return self._dicts("SELECT status, note, at FROM review_events WHERE kernel_id = ? ORDER BY id", (kernel_id,))

    def reviewed_ids(self, status: str) -> set[str]:
        """Ids of the kernels carrying label ``status`` (what export filters on)."""
        return {r[0] for r in self.conn.execute("SELECT kernel_id FROM reviews WHERE status = ?", (status,))}

    # -- browsing ----------------------------------------------------------------------
    def category_counts(self) -> list[CategoryCounts]:
        """Kernels and labels per category (the kernel count comes from the category index)."""
        out = {
            c: CategoryCounts(c, n)
            for c, n in self.conn.execute("SELECT category, COUNT(*) FROM kernels GROUP BY category ORDER BY category")
        }
        cur = self.conn.execute(
            "SELECT k.category, r.status, COUNT(*) FROM reviews r JOIN kernels k ON k.id = r.kernel_id"
            " WHERE r.status IS NOT NULL GROUP BY k.category, r.status"
        )
        for category, status, n in cur:
            if category in out:
                setattr(out[category], status, n)
        return list(out.values())

    def kernel_page(
        self, category: str | None = None, status: str = "all", after: int = 0, limit: int = 200
    ) -> list[KernelRow]:
        """The next ``limit`` kernels after rowid ``after`` (keyset pagination, rowid order)."""
        where, params = _filter_sql(category, status)
        cur = self.conn.execute(
            "SELECT k.rowid, k.id, k.name, k.category, r.status FROM kernels k"
            f" LEFT JOIN reviews r ON r.kernel_id = k.id WHERE {where} AND k.rowid > ?"
            " ORDER BY k.rowid LIMIT ?",
            (*params, after, limit),
        )
        return [KernelRow(*r) for r in cur]

    def count_filtered(self, category: str | None = None, status: str = "all") -> int:
        where, params = _filter_sql(category, status)
        join = "" if status == "all" else " LEFT JOIN reviews r ON r.kernel_id = k.id"
        return self.conn.execute(f"SELECT COUNT(*) FROM kernels k{join} WHERE {where}", params).fetchone()[0]

    def next_unreviewed(self, category: str | None, after: int) -> KernelRow | None:
        """The first unlabelled kernel after rowid ``after``, wrapping round to the start."""
        for lower in (after, 0):
            page = self.kernel_page(category, "unreviewed", lower, 1)
            if page:
                return page[0]
        return None

    def search_kernels(self, text: str, limit: int = 500) -> list[KernelRow]:
        """Kernels whose name or Python source matches ``text`` (an FTS5 prefix phrase), best first."""
        if not text.strip():
            return []
        cur = self.conn.execute(
            "SELECT k.rowid, k.id, k.name, k.category, r.status FROM kernels_fts f"
            " JOIN kernels k ON k.rowid = f.rowid LEFT JOIN reviews r ON r.kernel_id = k.id"
            " WHERE kernels_fts MATCH ? ORDER BY f.rank LIMIT ?",
            (fts_phrase(text), limit),
        )
        return [KernelRow(*r) for r in cur]

    def kernel_detail(self, kernel_id: str) -> KernelDetail | None:
        row = self.conn.execute(
            "SELECT k.id, k.name, k.category, k.source, k.seed, k.launch_dim, r.status, r.note, r.updated_at"
            " FROM kernels k LEFT JOIN reviews r ON r.kernel_id = k.id WHERE k.id = ?",
            (kernel_id,),
        ).fetchone()
        if row is None:
            return None
        detail = KernelDetail(*row)
        cur = self.conn.execute(
            f"SELECT device, {', '.join(PIECE_COLUMNS)} FROM artifacts WHERE kernel_id = ?", (kernel_id,)
        )
        for row in cur:
            pieces = row_dict(cur, row)
            detail.artifacts[pieces.pop("device")] = pieces
        detail.verifications = self._dicts(
            "SELECT device, compiler, options, ok, diagnostics, verified_at FROM verifications"
            " WHERE kernel_id = ? ORDER BY device, verified_at",
            (kernel_id,),
        )
        detail.executions = self.kernel_executions(kernel_id)
        return detail

    # -- near-duplicates ---------------------------------------------------------------
    def dedup_info(self) -> dict | None:
        """The last `curator dedup` run's parameters, or None if clusters were never made."""
        return self._dict("SELECT threshold, num_perm, kernels, clusters, computed_at FROM dedup_state")

    def cluster_of(self, kernel_id: str) -> list[ClusterMember]:
        """The members of ``kernel_id``'s near-dup cluster (itself included), most similar first."""
        cur = self.conn.execute(
            "SELECT k.id, k.name, k.category, c.similarity, c.kernel_id = c.representative"
            " FROM dedup_clusters c JOIN kernels k ON k.id = c.kernel_id"
            " WHERE c.representative = (SELECT representative FROM dedup_clusters WHERE kernel_id = ?)"
            " ORDER BY c.kernel_id != c.representative, c.similarity DESC, k.name",
            (kernel_id,),
        )
        return [ClusterMember(i, n, c, s, bool(r)) for i, n, c, s, r in cur]
