"""Store queries an export makes: which kernels qualify, their exported columns, per-category counts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from curator.store.base import StorePart

# Review statuses an export can ask for: 'accepted' only, or everything not rejected.
EXPORT_STATUSES = ("unrejected", "accepted")


@dataclass(frozen=True)
class ExportFilter:
    """Which kernels of one device an export may pick.  Rejected kernels never qualify.

    ``verified_only`` is the hook for `curator export --verified-only`: a kernel qualifies
    when it has at least one passing verification for the device and no failing one, and a CPU
    run that ran (or found it not runnable) and none that failed.
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
                # and it ran on the CPU (or cannot be run there, with a reason), and never failed there
                # (curator verify --execute)
                " AND EXISTS (SELECT 1 FROM executions e WHERE e.kernel_id = k.id"
                " AND e.status IN ('ran', 'not-runnable'))"
                " AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.kernel_id = k.id"
                " AND e.status NOT IN ('ran', 'not-runnable'))"
            )
        return " AND ".join(clauses), params


# The columns of one exported line, in order (see curator.export.records).
EXPORT_COLUMNS = (
    "k.id",
    "k.name",
    "k.category",
    "a.device",
    "k.source",
    "a.structs",
    "a.functions",
    "a.args",
    "a.forward",
    "a.backward",
    "a.entry",
    "k.launch_dim",
    "k.kernel_args",
    "k.skeleton_hash",
    "k.origin",
    "k.provenance",
    "k.seed",
    "k.run_seed",
    "k.generator_version",
    "a.warp_version",
    # verification of this device's code: compiled (1/0, null: never compiled), the latest run's
    # status and adjoint check (null: not run on this device)
    "(SELECT CASE WHEN SUM(v.ok = 0) > 0 THEN 0 WHEN COUNT(*) > 0 THEN 1 END FROM verifications v"
    " WHERE v.kernel_id = k.id AND v.device = a.device AND v.compiler NOT LIKE 'launch%')",
    "(SELECT e.status FROM executions e WHERE e.kernel_id = k.id AND e.device = a.device"
    " ORDER BY e.executed_at DESC LIMIT 1)",
    "(SELECT e.grad FROM executions e WHERE e.kernel_id = k.id AND e.device = a.device"
    " ORDER BY e.executed_at DESC LIMIT 1)",
)


class ExportStoreMixin(StorePart):
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

    def skeleton_hashes(self, ids: Iterable[str]) -> dict[str, str]:
        """kernel id -> its skeleton hash, for ``ids``."""
        return dict(self._rows_in("SELECT id, skeleton_hash FROM kernels WHERE id IN ({})", ids))

    def max_run_seed(self) -> int | None:
        return self.conn.execute("SELECT MAX(run_seed) FROM kernels").fetchone()[0]
