"""Store queries for runs: each command's row in ``runs``, with the pid and host that run it
so a later command can tell a dead ``running`` row (SIGKILL, power loss) and mark it killed."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Callable, Iterator

from curator.store.base import StorePart, now


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


class RunStoreMixin(StorePart):
    def start_run(self, command: str, arguments: dict) -> int:
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO runs (command, arguments, started_at, pid, host) VALUES (?, ?, ?, ?, ?)",
                (command, json.dumps(arguments, sort_keys=True), now(), os.getpid(), socket.gethostname()),
            )
            run_id = cur.lastrowid
        assert run_id is not None  # an INSERT sets it
        return run_id

    def finish_run(self, run_id: int, status: str, counts: dict) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE runs SET ended_at = ?, status = ?, counts = ? WHERE id = ?",
                (now(), status, json.dumps(counts, sort_keys=True), run_id),
            )

    def runs(self, command: str | None = None) -> list[dict]:
        sql = "SELECT * FROM runs" + (" WHERE command = ?" if command else "") + " ORDER BY id"
        return self._dicts(sql, (command,) if command else ())

    def mark_dead_runs(self) -> int:
        """Mark ``running`` rows of this host whose process is gone as ``killed``; returns how
        many.  Rows of other hosts, or without a pid (older stores), are left alone."""
        host = socket.gethostname()
        rows = self.conn.execute(
            "SELECT id, pid FROM runs WHERE status = 'running' AND host = ? AND pid IS NOT NULL", (host,)
        ).fetchall()
        dead = [rid for rid, pid in rows if pid != os.getpid() and not _alive(pid)]
        if dead:
            with self.transaction():
                self.conn.executemany(
                    "UPDATE runs SET status = 'killed', ended_at = ? WHERE id = ? AND status = 'running'",
                    [(now(), rid) for rid in dead],
                )
        return len(dead)

    @contextlib.contextmanager
    def recorded_run(self, command: str, arguments: dict, counts: Callable[[], dict]) -> Iterator[int]:
        """A ``runs`` row for the block: ``running`` while it runs, then ``done``, ``interrupted``
        (Ctrl-C) or ``failed``, with ``counts()`` as it stands at the end.  Dead rows left by
        killed runs are marked ``killed`` first."""
        self.mark_dead_runs()
        run_id = self.start_run(command, arguments)
        status = "failed"
        try:
            yield run_id
            status = "done"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            self.finish_run(run_id, status, counts())
