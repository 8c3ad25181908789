"""Opening, checking, creating and migrating a curator store (one SQLite file, WAL mode)."""

from __future__ import annotations

import datetime as _dt
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from curator.errors import CuratorError

SCHEMA_VERSION = 7
APPLICATION_ID = 0x43555241  # "CURA"
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
# Values per ``IN (...)`` list: SQLite before 3.32 allows 999 host parameters in a statement.
IN_CHUNK = 500

T = TypeVar("T")

# Forward migrations: MIGRATIONS[v] upgrades a store at version v to v + 1 (schema.sql is
# always the latest version in full, for new stores).
MIGRATIONS: dict[int, str] = {
    # v2: keep the search index right when a kernel's name or source is edited
    1: """CREATE TRIGGER IF NOT EXISTS kernels_fts_au AFTER UPDATE OF name, source ON kernels BEGIN
    INSERT INTO kernels_fts (kernels_fts, rowid, name, source) VALUES ('delete', old.rowid, old.name, old.source);
    INSERT INTO kernels_fts (rowid, name, source) VALUES (new.rowid, new.name, new.source);
END;""",
    # v3: runs record the process that ran them, so a killed run can be told from a live one
    2: """ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN host TEXT;""",
    # v4: the visible Warp builtin signatures each kernel's codegen resolved (curator stats --coverage)
    3: """CREATE TABLE IF NOT EXISTS kernel_builtins (
    kernel_id    TEXT NOT NULL REFERENCES kernels (id) ON DELETE CASCADE,
    warp_version TEXT NOT NULL,
    signatures   TEXT NOT NULL,
    PRIMARY KEY (kernel_id, warp_version)
);""",
    # v5: which compile mode a verification used; CPU executions (run, pair and adjoint checks)
    4: """ALTER TABLE verifications ADD COLUMN mode TEXT;
CREATE TABLE IF NOT EXISTS executions (
    kernel_id   TEXT NOT NULL REFERENCES kernels (id) ON DELETE CASCADE,
    device      TEXT NOT NULL CHECK (device IN ('cpu', 'cuda')),
    seed        INTEGER NOT NULL,
    warp        TEXT NOT NULL,                   -- Warp version (and options) it ran under
    status      TEXT NOT NULL,                   -- ran | failed | crashed | timeout | not-runnable | refused
    message     TEXT,                            -- why it failed / was not run
    checksum    TEXT,                            -- blake2b of the output arrays' bytes
    repeatable  INTEGER,                         -- the same seed gave the same checksum again
    nonfinite   INTEGER,                         -- outputs hold NaN or Inf
    pair_ok     INTEGER,                         -- stored code equals the .cpp Warp compiled
    grad        TEXT,                            -- pass | fail | not-differentiable
    grad_error  REAL,                            -- worst relative error tape vs finite differences
    grad_note   TEXT,
    ms          REAL,
    executed_at TEXT NOT NULL,
    PRIMARY KEY (kernel_id, device, seed, warp)
);""",
    # v6: what the measures read from each kernel's source, kept (curator.measure.measures)
    5: """CREATE TABLE IF NOT EXISTS kernel_measures (
    kernel_id TEXT PRIMARY KEY REFERENCES kernels (id) ON DELETE CASCADE,
    version   INTEGER NOT NULL,                  -- curator.measure.measures.MEASURES_VERSION that computed the row
    names     TEXT NOT NULL,                     -- JSON list, sorted: curator.measure.coverage.names_in_source
    figures   TEXT                               -- JSON object: curator.measure.profile.KernelFigures; NULL: no kernel
);
CREATE TRIGGER IF NOT EXISTS kernel_measures_au AFTER UPDATE OF name, source ON kernels BEGIN
    DELETE FROM kernel_measures WHERE kernel_id = old.id;
END;""",
    # v7: the MinHash values of each kernel's @wp.kernel definitions (decontamination), kept
    6: """CREATE TABLE IF NOT EXISTS kernel_def_minhash (
    kernel_id  TEXT PRIMARY KEY REFERENCES kernels (id) ON DELETE CASCADE,
    params     TEXT NOT NULL,
    hashvalues BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS kernel_def_minhash_au AFTER UPDATE OF source ON kernels BEGIN
    DELETE FROM kernel_def_minhash WHERE kernel_id = old.id;
END;""",
}


class StoreError(CuratorError):
    """A store that cannot be opened or used; the message is one sentence for the user."""


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def schema_sql() -> str:
    """The canonical DDL: shipped in the wheel as curator/schema.sql, else the checkout's."""
    packaged = resources.files("curator").joinpath("schema.sql")
    if packaged.is_file():
        return packaged.read_text()
    return (Path(__file__).resolve().parents[2] / "schema.sql").read_text()


def _check_file(path: Path) -> None:
    """Refuse anything that is not an SQLite file, without writing to it."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a curator store")
    try:
        with path.open("rb") as fh:
            head = fh.read(100)
    except PermissionError as exc:
        raise StoreError(f"cannot read {path}: permission denied") from exc
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not head:
        raise StoreError(f"{path} is an empty file, not a curator store")
    if not head.startswith(SQLITE_MAGIC):
        raise StoreError(f"{path} is not an SQLite database (not a curator store)")
    if len(head) < 100:
        raise StoreError(f"{path} is a truncated SQLite file")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    wal = path.with_name(path.name + "-wal")
    # with a live WAL the header may count pages not yet checkpointed into the file
    if pages and not (wal.exists() and wal.stat().st_size) and path.stat().st_size < page_size * pages:
        raise StoreError(f"{path} is a truncated SQLite file ({path.stat().st_size:,} of {page_size * pages:,} bytes)")


def can_write(path: str | os.PathLike) -> bool:
    """Whether a store at ``path`` (existing or to create) can be opened writable: its folder and the
    file, where there is one, are writable (not on read-only media, not another user's)."""
    path = Path(path)
    return os.access(path.resolve().parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _check_target(path: Path, create: bool) -> bool:
    """Whether ``path`` is a new store to create; refuses a missing file without ``create``, a
    folder that cannot hold a new one, and any existing file that is not SQLite."""
    if path.exists():
        _check_file(path)
        return False
    if not create:
        raise StoreError(f"no curator store at {path}; create one with `curator generate --db {path}`")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise StoreError(f"cannot create {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise StoreError(f"cannot create {path}: folder {parent} is not writable")
    return True


def _identify_untouched(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of an existing store, read through an immutable connection first, so
    a refused file gets no -wal/-shm beside it; with a live WAL (pages not yet in the file) the
    store is already in use as one and the normal connection identifies it."""
    wal = path.with_name(path.name + "-wal")
    live_wal = wal.exists() and wal.stat().st_size > 0
    probe = conn if live_wal else sqlite3.connect(f"file:{path.resolve()}?mode=ro&immutable=1", uri=True)
    try:
        return _identify(probe, path)
    finally:
        if probe is not conn:
            probe.close()


def _identify(conn: sqlite3.Connection, path: Path) -> int:
    """Return the store's schema version; raise if the file is not a curator store."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is corrupt or not a database ({exc})") from exc
    if app_id != APPLICATION_ID:
        if not tables:
            raise StoreError(f"{path} is an empty SQLite database, not a curator store")
        raise StoreError(f"{path} is an SQLite database of another application, not a curator store")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has store schema version {version}, newer than this curator supports "
            f"({SCHEMA_VERSION}); upgrade curator"
        )
    return version


def chunked(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in consecutive slices of at most ``size`` (none for no values)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def row_dict(cur: sqlite3.Cursor, row: Sequence[Any]) -> dict[str, Any]:
    """``row`` of ``cur`` as a dict keyed by the cursor's column names (the store's one row-to-dict)."""
    return dict(zip((c[0] for c in cur.description), row, strict=True))


def row_dicts(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    """The rest of ``cur``'s rows, each as a dict keyed by its column names."""
    return [row_dict(cur, row) for row in cur]


class StorePart:
    """What every part of the store (the mixins of curator.store.Store and BaseStore) stands on: the
    connection, transactions, and the queries over long lists of values."""

    conn: sqlite3.Connection

    def transaction(self) -> _Transaction:
        """``with store.transaction():`` groups writes atomically (BEGIN IMMEDIATE)."""
        return _Transaction(self.conn)

    def _rows_in(self, sql: str, values: Iterable[Any], params: Sequence[Any] = ()) -> Iterator[Any]:
        """The rows of ``sql``, whose ``{}`` is an ``IN (...)`` list of ``values``, run once per chunk
        of IN_CHUNK values (``params`` go before each chunk's values)."""
        for chunk in chunked(list(values)):
            yield from self.conn.execute(sql.format(", ".join("?" * len(chunk))), (*params, *chunk))

    def _dicts_in(self, sql: str, values: Iterable[Any], params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """``_rows_in``, each row as a dict keyed by column name."""
        for chunk in chunked(list(values)):
            yield from row_dicts(self.conn.execute(sql.format(", ".join("?" * len(chunk))), (*params, *chunk)))

    def _dict(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """The first row of ``sql`` as a dict keyed by column name; None when there is none."""
        cur = self.conn.execute(sql, params)
        row = cur.fetchone()
        return None if row is None else row_dict(cur, row)

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row of ``sql`` as a dict keyed by column name."""
        return row_dicts(self.conn.execute(sql, params))


class BaseStore(StorePart):
    """Connection handling shared by the store's parts (see curator.store.Store)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, readonly: bool = False):
        self.conn = conn
        self.path = path
        self.readonly = readonly  # opened read-only: what it computes it cannot keep (curator.measure.measures)

    # -- opening -----------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, *, create: bool = False, readonly: bool = False):
        """Open the store at ``path``.

        ``create`` makes a new store where no file exists; otherwise a missing file is an
        error.  Files that are not curator stores are refused untouched; older stores are
        backed up (``PATH.bak-vN``) and migrated.
        """
        path = Path(path)
        new = _check_target(path, create)
        writable = can_write(path)
        if not readonly and not new and not writable:
            raise StoreError(f"{path} is read-only (the file or its folder cannot be written); nothing was changed")
        # A WAL store in a folder nobody can write (read-only media) opens only as immutable.
        uri = f"file:{path.resolve()}?mode=ro" + ("" if writable else "&immutable=1") if readonly else str(path)
        try:
            conn = sqlite3.connect(
                uri, uri=readonly, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc
        try:
            version = 0 if new else _identify_untouched(conn, path)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                if new or version < SCHEMA_VERSION:
                    if not new:
                        _backup(conn, path, version)
                    _apply_schema(conn, 0 if new else version)
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            elif version < SCHEMA_VERSION:
                raise StoreError(f"{path} has an older schema (v{version}); open it once writable to migrate")
        except StoreError:
            conn.close()
            raise
        except sqlite3.OperationalError as exc:
            conn.close()
            if new and path.exists() and path.stat().st_size == 0:
                path.unlink()
            raise StoreError(f"cannot use {path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path} is corrupt or not a database ({exc})") from exc
        return cls(conn, path, readonly)

    def tables(self) -> list[dict]:
        """Every table of the store with its rows and columns, read through sqlite-utils (imported
        here only: the write path stays plain ``sqlite3`` for its import time).  FTS5's shadow
        tables are left out; the index itself is listed."""
        import sqlite_utils

        db = sqlite_utils.Database(self.conn)
        fts = set(db.table_names(fts5=True))
        return [
            {"table": t.name, "rows": t.count, "columns": [c.name for c in t.columns]}
            for t in db.tables
            if not any(t.name.startswith(f"{f}_") for f in fts)
        ]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def integrity_check(self) -> str:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]

    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]


class _Transaction:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        else:
            self._rollback()
        return False

    def _rollback(self) -> None:
        # SQLite may already have rolled back (e.g. SQLITE_FULL during COMMIT); a second
        # ROLLBACK would raise and hide the error that matters.
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


def _backup(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the store (WAL content included) to PATH.bak-vN before migrating it."""
    dest = path.with_name(f"{path.name}.bak-v{version}")
    dst = sqlite3.connect(str(dest))
    try:
        conn.backup(dst)
    finally:
        dst.close()
    return dest


def _apply_schema(conn: sqlite3.Connection, from_version: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        if from_version == 0:
            for stmt in _statements(schema_sql()):
                conn.execute(stmt)
        else:
            for v in range(from_version, SCHEMA_VERSION):
                for stmt in _statements(MIGRATIONS[v]):
                    conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (triggers included)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        if not buf and line.lstrip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
