"""Store queries for CPU executions (`curator verify --execute`): the executions table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from curator.store.base import StorePart, now

RESULT_COLUMNS = (  # what an ExecutionRow holds (the table adds executed_at)
    "kernel_id",
    "device",
    "seed",
    "warp",
    "status",
    "message",
    "checksum",
    "repeatable",
    "nonfinite",
    "pair_ok",
    "grad",
    "grad_error",
    "grad_note",
    "ms",
)
# A kernel ran if its latest execution on the device says so; "not-runnable" has a reason.
RAN, NOT_RUNNABLE = "ran", "not-runnable"


@dataclass
class ExecutionRow:
    """One kernel launched on one device with one seed under one Warp (and its options)."""

    kernel_id: str
    device: str
    seed: int
    warp: str
    status: str  # ran | failed | crashed | timeout | not-runnable | refused
    message: str | None = None
    checksum: str | None = None
    repeatable: bool | None = None
    nonfinite: bool | None = None
    pair_ok: bool | None = None
    grad: str | None = None  # pass | fail | not-differentiable
    grad_error: float | None = None
    grad_note: str | None = None
    ms: float | None = None


def _latest() -> str:
    """The newest execution of each kernel on the device given as the one parameter."""
    return (
        "SELECT * FROM executions e WHERE e.device = ? AND e.executed_at = (SELECT MAX(x.executed_at)"
        " FROM executions x WHERE x.kernel_id = e.kernel_id AND x.device = e.device)"
    )


class ExecutionStoreMixin(StorePart):
    def record_executions(self, rows: Iterable[ExecutionRow]) -> int:
        """Store results atomically (a result for the same kernel, device, seed and Warp replaces
        the earlier one)."""
        stamp, n = now(), 0
        with self.transaction() as conn:
            for r in rows:
                values = [getattr(r, c) for c in RESULT_COLUMNS]
                values = [int(v) if isinstance(v, bool) else v for v in values]
                conn.execute(
                    f"INSERT OR REPLACE INTO executions ({', '.join(RESULT_COLUMNS)}, executed_at)"
                    f" VALUES ({', '.join('?' * (len(RESULT_COLUMNS) + 1))})",
                    (*values, stamp),
                )
                n += 1
        return n

    def executed_ids(self, device: str, seed: int, warp: str, ids: list[str]) -> set[str]:
        """Those of ``ids`` already executed on ``device`` with this seed and Warp."""
        sql = "SELECT kernel_id FROM executions WHERE device = ? AND seed = ? AND warp = ? AND kernel_id IN ({})"
        return {r[0] for r in self._rows_in(sql, ids, (device, seed, warp))}

    def ran_ids(self, device: str = "cpu", include_not_runnable: bool = True) -> set[str]:
        """Kernels whose latest execution on ``device`` ran (or is not-runnable with a reason)."""
        ok = (RAN, NOT_RUNNABLE) if include_not_runnable else (RAN,)
        cur = self.conn.execute(
            f"SELECT kernel_id FROM ({_latest()}) WHERE status IN ({', '.join('?' * len(ok))})", (device, *ok)
        )
        return {r[0] for r in cur}

    def execution_stats(self, device: str = "cpu") -> list[dict]:
        """Per category: kernels executed, per status, and the adjoint check's outcomes."""
        cur = self.conn.execute(
            "SELECT k.category, COUNT(*), SUM(e.status = 'ran'), SUM(e.status = 'not-runnable'),"
            " SUM(e.status NOT IN ('ran', 'not-runnable')), SUM(e.nonfinite = 1), SUM(e.repeatable = 0),"
            " SUM(e.pair_ok = 0), SUM(e.grad = 'pass'), SUM(e.grad = 'fail'), SUM(e.grad = 'not-differentiable')"
            f" FROM ({_latest()}) e JOIN kernels k ON k.id = e.kernel_id GROUP BY k.category ORDER BY k.category",
            (device,),
        )
        keys = (
            "category",
            "executed",
            "ran",
            "not_runnable",
            "failed",
            "nonfinite",
            "unrepeatable",
            "pair_failed",
            "grad_pass",
            "grad_fail",
            "grad_nd",
        )
        return [{k: (v or 0) if k != "category" else v for k, v in zip(keys, row, strict=True)} for row in cur]

    def grad_failure_sources(self, device: str = "cpu") -> list[tuple[str, str, str]]:
        """(category, kernel name, source) of the kernels whose latest execution failed the adjoint check."""
        cur = self.conn.execute(
            f"SELECT k.category, k.name, k.source FROM ({_latest()}) e JOIN kernels k ON k.id = e.kernel_id"
            " WHERE e.grad = 'fail' ORDER BY k.id",
            (device,),
        )
        return cur.fetchall()

    def execution_failures(self, device: str = "cpu", limit: int = 20) -> list[dict]:
        """Latest executions that failed (any status but ran/not-runnable) or failed the adjoint check."""
        return self._dicts(
            "SELECT e.kernel_id, e.device, k.category, k.name, e.status, e.message, e.grad, e.grad_error,"
            f" e.grad_note, e.executed_at FROM ({_latest()}) e JOIN kernels k ON k.id = e.kernel_id"
            " WHERE e.status NOT IN ('ran', 'not-runnable') OR e.grad = 'fail'"
            " ORDER BY e.executed_at DESC, e.kernel_id LIMIT ?",
            (device, limit),
        )

    def kernel_executions(self, kernel_id: str) -> list[dict]:
        """Every stored execution of one kernel (for the TUI)."""
        return self._dicts(
            "SELECT device, seed, warp, status, message, checksum, repeatable, nonfinite, pair_ok, grad, grad_error,"
            " grad_note, ms, executed_at FROM executions WHERE kernel_id = ? ORDER BY device, executed_at",
            (kernel_id,),
        )
