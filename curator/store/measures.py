"""Store queries of the measuring commands: builtin signatures per kernel (coverage) and sources (profile)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator


class MeasuresStoreMixin:
    conn: object

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
