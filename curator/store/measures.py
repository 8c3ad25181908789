"""Store queries of the measuring commands: builtin signatures per kernel (coverage), sources (profile) and
what the measures read from each source, kept per kernel (table kernel_measures, curator.measure.measures)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from curator.store.base import StorePart


class MeasuresStoreMixin(StorePart):
    def write_builtin_signatures(self, rows: Iterable[tuple[str, str, list[str]]]) -> int:
        """Record (kernel id, warp version, signatures); a kernel already recorded for that Warp is kept."""
        with self.transaction():
            return self._insert_builtin_signatures(rows)

    def _insert_builtin_signatures(self, rows: Iterable[tuple[str, str, list[str]]]) -> int:
        """The insert itself, inside the caller's transaction (write_batch stores a kernel with its calls)."""
        values = [(kid, version, json.dumps(sorted(sigs))) for kid, version, sigs in rows]
        before = self.conn.total_changes
        self.conn.executemany(
            "INSERT OR IGNORE INTO kernel_builtins (kernel_id, warp_version, signatures) VALUES (?, ?, ?)", values
        )
        return self.conn.total_changes - before

    def kernels_with_builtin_signatures(
        self, origin: str | None, warp_version: str
    ) -> Iterator[tuple[str, str, list[str] | None]]:
        """(id, source, signatures or None when not recorded for ``warp_version``) of every kernel of ``origin``
        (None: all)."""
        sql = (
            "SELECT k.id, k.source, b.signatures FROM kernels k"
            " LEFT JOIN kernel_builtins b ON b.kernel_id = k.id AND b.warp_version = ?"
        )
        args: list = [warp_version]
        if origin is not None:
            sql += " WHERE k.origin = ?"
            args.append(origin)
        for kid, source, sigs in self.conn.execute(sql + " ORDER BY k.id", args):
            yield kid, source, None if sigs is None else json.loads(sigs)

    def kernel_names_and_sources(self, origin: str | None) -> Iterator[tuple[str, str]]:
        """(kernel function name, module source) of every kernel of ``origin`` (None: all), by id."""
        if origin is None:
            return iter(self.conn.execute("SELECT name, source FROM kernels ORDER BY id"))
        return iter(self.conn.execute("SELECT name, source FROM kernels WHERE origin = ? ORDER BY id", (origin,)))

    def kernels_without_measures(self, version: int, origin: str | None, after: str, limit: int) -> list[tuple]:
        """(id, name, source) of at most ``limit`` kernels of ``origin`` (None: all) with an id above ``after``,
        by id, that have no measures of ``version`` kept (a batch of curator.measure.measures.fill)."""
        sql = (
            "SELECT k.id, k.name, k.source FROM kernels k LEFT JOIN kernel_measures m ON m.kernel_id = k.id"
            " WHERE k.id > ? AND (m.version IS NULL OR m.version != ?)"
        )
        args: list = [after, version]
        if origin is not None:
            sql += " AND k.origin = ?"
            args.append(origin)
        return self.conn.execute(sql + " ORDER BY k.id LIMIT ?", [*args, limit]).fetchall()

    def count_kernels_without_measures(self, version: int, origin: str | None) -> int:
        """How many kernels of ``origin`` (None: all) have no measures of ``version`` kept."""
        sql = (
            "SELECT COUNT(*) FROM kernels k LEFT JOIN kernel_measures m ON m.kernel_id = k.id"
            " WHERE (m.version IS NULL OR m.version != ?)"
        )
        args: list = [version]
        if origin is not None:
            sql += " AND k.origin = ?"
            args.append(origin)
        return self.conn.execute(sql, args).fetchone()[0]

    def write_kernel_measures(self, version: int, rows: Iterable[tuple[str, list[str], dict | None]]) -> int:
        """Keep (kernel id, names, figures or None) as measured by ``version``, replacing rows of another
        version; one transaction."""
        values = [(kid, version, json.dumps(names), None if f is None else json.dumps(f)) for kid, names, f in rows]
        sql = "INSERT OR REPLACE INTO kernel_measures (kernel_id, version, names, figures) VALUES (?, ?, ?, ?)"
        with self.transaction():
            before = self.conn.total_changes
            self.conn.executemany(sql, values)
            return self.conn.total_changes - before

    def kernel_measures(
        self, origin: str | None, version: int, warp_version: str | None
    ) -> Iterator[tuple[str, str, str | None, list[str] | None, dict | None, list[str] | None]]:
        """(id, name, source, names, figures, signatures) of every kernel of ``origin`` (None: all), by id.  A kernel
        with measures of ``version`` kept comes with them and no source; one without, with its source and names
        None.  Signatures: those recorded for ``warp_version`` (None when not recorded, or not asked for)."""
        sql = (
            "SELECT k.id, k.name, CASE WHEN m.version IS ? THEN NULL ELSE k.source END,"
            " CASE WHEN m.version IS ? THEN m.names END, m.figures, b.signatures FROM kernels k"
            " LEFT JOIN kernel_measures m ON m.kernel_id = k.id"
            " LEFT JOIN kernel_builtins b ON b.kernel_id = k.id AND b.warp_version = ?"
        )
        args: list = [version, version, warp_version]
        if origin is not None:
            sql += " WHERE k.origin = ?"
            args.append(origin)
        for kid, name, source, names, figs, sigs in self.conn.execute(sql + " ORDER BY k.id", args):
            measured = names is not None
            yield (
                kid,
                name,
                source,
                json.loads(names) if measured else None,
                json.loads(figs) if measured and figs is not None else None,
                None if sigs is None else json.loads(sigs),
            )
