"""Merging curator stores into one: content ids make it idempotent; reviews, verifications and runs come along."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from curator.store.base import StoreError
from curator.store.executions import RESULT_COLUMNS

CHUNK = 1000
KERNEL_COLUMNS = (
    "id",
    "name",
    "category",
    "source",
    "origin",
    "provenance",
    "seed",
    "run_seed",
    "run_index",
    "generator_version",
    "launch_dim",
    "kernel_args",
    "skeleton_hash",
    "minhash",
    "created_at",
)
ARTIFACT_COLUMNS = (
    "kernel_id",
    "device",
    "structs",
    "functions",
    "args",
    "forward",
    "backward",
    "entry",
    "bytes",
    "warp_version",
    "codegen_ms",
    "created_at",
)
FAILURE_COLUMNS = ("kernel_id", "category", "seed", "stage", "exc_type", "message", "source", "run_id", "created_at")
VERIFICATION_COLUMNS = ("kernel_id", "device", "compiler", "options", "ok", "diagnostics", "ms", "verified_at", "mode")
EXECUTION_COLUMNS = (*RESULT_COLUMNS, "executed_at")
REVIEW_COLUMNS = ("kernel_id", "status", "note", "updated_at")
EVENT_COLUMNS = ("kernel_id", "status", "note", "at")


@dataclass
class MergeCounts:
    """Rows one source added to the output store (0 everywhere on a repeated merge)."""

    kernels: int = 0
    artifacts: int = 0
    failures: int = 0
    verifications: int = 0
    reviews: int = 0
    review_events: int = 0
    runs: int = 0
    bytes: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _insert(columns: tuple[str, ...], table: str, conflict: str = "OR IGNORE") -> str:
    names = ", ".join(columns)
    return f"INSERT {conflict} INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"


def _copy(src, dest, table: str, columns: tuple[str, ...], sql: str, fix=None) -> int:
    """Stream ``table``'s rows from src into dest with ``sql``; the number of rows it changed."""
    changed = 0
    cur = src.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid")
    while rows := cur.fetchmany(CHUNK):
        # rowcount: rows this statement inserted or updated (not those its triggers touched)
        changed += dest.executemany(sql, [fix(r) for r in rows] if fix else rows).rowcount
    return changed


def _copy_runs(src, dest) -> tuple[dict[int, int], int]:
    """Runs are the same run when command, arguments and start time are; returns {source id: output id}."""
    mapping, added = {}, 0
    for rid, command, arguments, started, ended, status, counts in src.execute(
        "SELECT id, command, arguments, started_at, ended_at, status, counts FROM runs ORDER BY id"
    ):
        row = dest.execute(
            "SELECT id FROM runs WHERE command = ? AND arguments = ? AND started_at = ?", (command, arguments, started)
        ).fetchone()
        if row is None:
            cur = dest.execute(
                "INSERT INTO runs (command, arguments, started_at, ended_at, status, counts) VALUES (?, ?, ?, ?, ?, ?)",
                (command, arguments, started, ended, status, counts),
            )
            mapping[rid], added = cur.lastrowid, added + 1
        else:
            mapping[rid] = row[0]
            if ended is not None:  # a run that has finished since an earlier merge
                dest.execute(
                    "UPDATE runs SET ended_at = ?, status = ?, counts = ? WHERE id = ? AND ended_at IS NULL",
                    (ended, status, counts, row[0]),
                )
    return mapping, added


def _copy_review_events(src, dest) -> int:
    added = 0
    for kid, status, note, at in src.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM review_events ORDER BY id"):
        seen = dest.execute(
            "SELECT 1 FROM review_events WHERE kernel_id = ? AND status IS ? AND note IS ? AND at = ?",
            (kid, status, note, at),
        ).fetchone()
        if seen is None:
            dest.execute(_insert(EVENT_COLUMNS, "review_events", ""), (kid, status, note, at))
            added += 1
    return added


def merge_into(dest_store, source: Path) -> MergeCounts:
    """Add everything the store at ``source`` holds to ``dest_store`` in one transaction.

    Kernels, artifacts and failures already there are kept as they are (content-hash ids); a
    review or verification present in both keeps the more recent one; runs are copied once.
    Near-duplicate clusters are not copied: they are derived, and recomputed for the merged store."""
    from curator.store import Store

    if Path(source).resolve() == Path(dest_store.path).resolve():
        raise StoreError(f"{source} is the output store itself; give it only as --db")
    with Store.open(source, readonly=True) as src_store:
        if src_store.schema_version() != dest_store.schema_version():
            raise StoreError(f"{source} has store schema v{src_store.schema_version()}; open it once to migrate")
        src, dest, counts = src_store.conn, dest_store.conn, MergeCounts()
        with dest_store.transaction():
            runs, counts.runs = _copy_runs(src, dest)
            counts.kernels = _copy(src, dest, "kernels", KERNEL_COLUMNS, _insert(KERNEL_COLUMNS, "kernels"))
            counts.bytes = _new_bytes(src, dest, counts)
            counts.artifacts = _copy(src, dest, "artifacts", ARTIFACT_COLUMNS, _insert(ARTIFACT_COLUMNS, "artifacts"))
            run_col = FAILURE_COLUMNS.index("run_id")
            counts.failures = _copy(
                src,
                dest,
                "failures",
                FAILURE_COLUMNS,
                _insert(FAILURE_COLUMNS, "failures"),
                fix=lambda r: (*r[:run_col], runs.get(r[run_col]), *r[run_col + 1 :]),
            )
            newer_check = (
                "ON CONFLICT (kernel_id, device, compiler, options) DO UPDATE SET ok = excluded.ok, "
                "diagnostics = excluded.diagnostics, ms = excluded.ms, verified_at = excluded.verified_at, "
                "mode = excluded.mode "
                "WHERE excluded.verified_at > verifications.verified_at"
            )
            upsert = _insert(VERIFICATION_COLUMNS, "verifications", "") + " " + newer_check
            counts.verifications = _copy(src, dest, "verifications", VERIFICATION_COLUMNS, upsert)
            newer_review = (
                "ON CONFLICT (kernel_id) DO UPDATE SET status = excluded.status, note = excluded.note, "
                "updated_at = excluded.updated_at WHERE excluded.updated_at > reviews.updated_at"
            )
            counts.reviews = _copy(
                src, dest, "reviews", REVIEW_COLUMNS, _insert(REVIEW_COLUMNS, "reviews", "") + " " + newer_review
            )
            counts.review_events = _copy_review_events(src, dest)
            builtins = ("kernel_id", "warp_version", "signatures")  # curator stats --coverage
            _copy(src, dest, "kernel_builtins", builtins, _insert(builtins, "kernel_builtins"))
            _copy(src, dest, "executions", EXECUTION_COLUMNS, _insert(EXECUTION_COLUMNS, "executions"))
    return counts


def _new_bytes(src, dest, counts: MergeCounts) -> dict:
    """Bytes of code per device about to be added (artifacts the output store lacks)."""
    out: dict[str, int] = {}
    cur = src.execute("SELECT kernel_id, device, bytes FROM artifacts ORDER BY rowid")
    while rows := cur.fetchmany(CHUNK):
        keys = {(k, d) for k, d, _ in rows}
        have = set()
        for kid, device in keys:
            if dest.execute("SELECT 1 FROM artifacts WHERE kernel_id = ? AND device = ?", (kid, device)).fetchone():
                have.add((kid, device))
        for kid, device, n in rows:
            if (kid, device) not in have:
                out[device] = out.get(device, 0) + n
    return out
