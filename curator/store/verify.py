"""Store queries for compilation results (`curator verify`): the verifications table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from curator.store.base import StorePart, now
from curator.store.kernels import PIECE_COLUMNS

# Differential launches (`verify --run`) are stored under compilers named "launch ..."; only
# compile results decide whether a kernel is verified.
LAUNCH_PREFIX = "launch"
_COMPILES = f"compiler NOT LIKE '{LAUNCH_PREFIX}%'"


@dataclass
class Verification:
    """One kernel's result for one device under one compiler and its options."""

    kernel_id: str
    device: str
    compiler: str
    options: str
    ok: bool
    diagnostics: str | None
    ms: float | None
    mode: str | None = None  # compile mode (curator.warp.compile.MODES); None for launches


def verified_condition(device: str, kernel_column: str = "k.id") -> tuple[str, tuple]:
    """An SQL condition (and its parameters) true for kernels whose code for ``device``
    compiled: at least one passing compile and no failing one.  For export filters:
    ``f"... WHERE {sql}"`` with ``params``."""
    sql = (
        f"EXISTS (SELECT 1 FROM verifications v WHERE v.kernel_id = {kernel_column} AND v.device = ?"
        f" AND v.ok = 1 AND v.{_COMPILES}) AND NOT EXISTS (SELECT 1 FROM verifications v"
        f" WHERE v.kernel_id = {kernel_column} AND v.device = ? AND v.ok = 0 AND v.{_COMPILES})"
    )
    return sql, (device, device)


class VerifyStoreMixin(StorePart):
    def record_verifications(self, rows: Iterable[Verification]) -> int:
        """Store results atomically; a result for the same kernel, device, compiler and options
        replaces the earlier one.  Returns the number of rows written."""
        stamp = now()
        n = 0
        with self.transaction() as conn:
            for r in rows:
                conn.execute(
                    "INSERT OR REPLACE INTO verifications (kernel_id, device, compiler, options, ok, diagnostics, ms,"
                    " verified_at, mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        r.kernel_id,
                        r.device,
                        r.compiler,
                        r.options,
                        int(r.ok),
                        r.diagnostics or None,
                        r.ms,
                        stamp,
                        r.mode,
                    ),
                )
                n += 1
        return n

    def verified_keys(self, device: str, compiler: str, options: str, ids: list[str] | None = None) -> set[str]:
        """Kernels (of ``ids``, or all) already verified, passed or failed, for ``device`` under
        this compiler and options."""
        sql = "SELECT kernel_id FROM verifications WHERE device = ? AND compiler = ? AND options = ?"
        return self._ids_where(sql, (device, compiler, options), ids)

    def run_compiled_keys(self, ids: list[str] | None = None) -> set[str]:
        """Kernels (of ``ids``, or all) whose CPU code Warp's own JIT compiled in a CPU run
        (a verification of mode "run", passed or failed: `verify --execute`)."""
        return self._ids_where("SELECT kernel_id FROM verifications WHERE device = 'cpu' AND mode = 'run'", (), ids)

    def artifact_ids(self, device: str, ids: list[str] | None = None) -> set[str]:
        """Ids of the kernels (of ``ids``, or all) with code for ``device``."""
        return self._ids_where("SELECT kernel_id FROM artifacts WHERE device = ?", (device,), ids)

    def _ids_where(self, sql: str, params: tuple, ids: list[str] | None) -> set[str]:
        if ids is None:
            return {r[0] for r in self.conn.execute(sql, params)}
        return {r[0] for r in self._rows_in(sql + " AND kernel_id IN ({})", ids, params)}

    def artifact_pieces(self, ids: list[str], device: str) -> dict[str, dict[str, str]]:
        """kernel id -> its stored code pieces for ``device``."""
        sql = f"SELECT kernel_id, {', '.join(PIECE_COLUMNS)} FROM artifacts WHERE device = ? AND kernel_id IN ({{}})"
        return {row.pop("kernel_id"): row for row in self._dicts_in(sql, ids, (device,))}

    def verified_ids(self, device: str) -> set[str]:
        """Kernels whose code for ``device`` compiled (see ``verified_condition``)."""
        sql, params = verified_condition(device)
        return {r[0] for r in self.conn.execute(f"SELECT k.id FROM kernels k WHERE {sql}", params)}

    def verification_summary(self) -> dict[str, dict]:
        """device -> {'checked', 'ok', 'compilers'}: kernels verified, kernels with a passing
        result, and the compilers used."""
        rows = self.conn.execute(
            "SELECT device, COUNT(DISTINCT kernel_id), COUNT(DISTINCT CASE WHEN ok THEN kernel_id END),"
            " GROUP_CONCAT(DISTINCT compiler) FROM verifications GROUP BY device ORDER BY device"
        )
        return {device: {"checked": n, "ok": ok, "compilers": c} for device, n, ok, c in rows}

    def verification_stats(self) -> list[dict]:
        """Per device and category: kernels with code, verified, passed, failed, pass rate
        (passed / verified, None when none verified).  A kernel counts as failed for a device
        if any compile of it failed there."""
        cur = self.conn.execute(
            "SELECT a.device, k.category, COUNT(*),"
            f" SUM(v.kernel_id IS NOT NULL), SUM(v.failed = 0), SUM(v.failed > 0)"
            " FROM artifacts a JOIN kernels k ON k.id = a.kernel_id"
            " LEFT JOIN (SELECT kernel_id, device, SUM(ok = 0) AS failed FROM verifications"
            f" WHERE {_COMPILES} GROUP BY kernel_id, device) v ON v.kernel_id = a.kernel_id AND v.device = a.device"
            " GROUP BY a.device, k.category ORDER BY a.device, k.category"
        )
        out = []
        for device, category, kernels, verified, passed, failed in cur:
            out.append(
                {
                    "device": device,
                    "category": category,
                    "kernels": kernels,
                    "verified": verified or 0,
                    "passed": passed or 0,
                    "failed": failed or 0,
                    "pass_rate": (passed or 0) / verified if verified else None,
                }
            )
        return out

    def verification_failures(self, device: str | None = None, limit: int = 20) -> list[dict]:
        """The failing compiles (newest first) with the kernel's category and name."""
        sql = (
            "SELECT v.kernel_id, v.device, k.category, k.name, v.compiler, v.options, v.mode, v.diagnostics,"
            " v.verified_at"
            " FROM verifications v JOIN kernels k ON k.id = v.kernel_id WHERE v.ok = 0"
            + (" AND v.device = ?" if device else "")
            + " ORDER BY v.verified_at DESC, v.kernel_id LIMIT ?"
        )
        return self._dicts(sql, (device, limit) if device else (limit,))

    def kernel_verifications(self, kernel_id: str) -> list[dict]:
        """Every stored result for one kernel, oldest first per device."""
        return self._dicts(
            "SELECT device, compiler, options, mode, ok, diagnostics, ms, verified_at FROM verifications"
            " WHERE kernel_id = ? ORDER BY device, verified_at",
            (kernel_id,),
        )
