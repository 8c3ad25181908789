"""Thread-safe use of the store from Textual's worker threads.

The store has one sqlite3 connection (opened with check_same_thread=False).  Every read and
write from a worker runs under one lock, so statements never interleave on the connection;
each statement is short (indexed keyset pages, one kernel by id), so a lock costs less than a
second connection and keeps reads consistent with the labels just written.  Label writes are
queued on the event loop in key order and flushed in that order by whichever writer worker
takes the lock first, so fast key presses can never reach the database out of order.

Counting reads (category counts, list totals, stats, clusters) scan whole indexes: 0.2-0.6 s on
a 100,000-kernel store.  They run on a second, read-only connection with its own lock (WAL lets
it read while the first one works), so they never hold up showing a kernel.  It sees every
label once its transaction committed, which is before the worker reports it saved.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from curator.store import Store, StoreError
from curator.store.review import KEEP

T = TypeVar("T")


class StoreClosed(RuntimeError):
    """The app is closing: a worker still running must not touch the store any more."""


class StoreAccess:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._closed = False
        self._lock = threading.RLock()
        self._pending: deque[tuple[str, object, object]] = deque()
        self._scan_lock = threading.Lock()
        self._scanner: Store | None = None

    def read(self, fn: Callable[[Store], T]) -> T:
        with self._lock:
            if self._closed:
                raise StoreClosed("the store is closed")
            return fn(self.store)

    def scan(self, fn: Callable[[Store], T]) -> T:
        """A slow read (counts over the whole store), on the second connection."""
        with self._scan_lock:
            if self._closed:
                raise StoreClosed("the store is closed")
            if self._scanner is None:
                try:
                    self._scanner = Store.open(self.store.path, readonly=True)
                except StoreError:
                    return self.read(fn)  # no second connection here: share the first
            return fn(self._scanner)

    def close(self) -> None:
        """Write labels still queued, then stop all use of the store: a worker thread still
        running a query finishes it first (the lock), later ones get StoreClosed.  The owner
        closing the connection afterwards can then never pull it from under a query."""
        with self._lock:
            if not self._closed:
                self.flush_reviews()
            self._closed = True
        with self._scan_lock:
            if self._scanner is not None:
                self._scanner.close()
                self._scanner = None

    def queue_review(self, kernel_id: str, status: object = KEEP, note: object = KEEP) -> None:
        """Remember a label/note change (event loop); flush_reviews() writes it (worker)."""
        self._pending.append((kernel_id, status, note))

    def flush_reviews(self) -> tuple[list[str], str | None]:
        """Write every queued change, oldest first, each in its own transaction.

        Returns the ids written and, if the database refused one (say it stayed locked past
        the busy timeout), why; that change and the ones after it stay queued for the next try.
        """
        written: list[str] = []
        with self._lock:
            while self._pending:
                kernel_id, status, note = self._pending[0]
                try:
                    self.store.set_review(kernel_id, status=status, note=note)
                except sqlite3.Error as exc:
                    return written, f"could not save the review of {kernel_id}: {exc}"
                except KeyError:
                    pass  # the kernel is gone from the store: nothing to label
                self._pending.popleft()
                written.append(kernel_id)
        return written, None
