"""Messages that worker threads post back to the event loop with what they read or wrote."""

from __future__ import annotations

from textual.message import Message

from curator.store.review import CategoryCounts, ClusterMember, KernelDetail, KernelRow
from curator.tui.views import Code


class CategoriesLoaded(Message):
    def __init__(self, counts: list[CategoryCounts]) -> None:
        super().__init__()
        self.counts = counts


class PageLoaded(Message):
    """A page of the kernel list; ``reset`` replaces the list, otherwise it is appended."""

    def __init__(self, key: tuple, rows: list[KernelRow], reset: bool, has_more: bool) -> None:
        super().__init__()
        self.key, self.rows, self.reset, self.has_more = key, rows, reset, has_more


class ListCounted(Message):
    """How many kernels the list ``key`` holds (counted after its first page is shown)."""

    def __init__(self, key: tuple, total: int) -> None:
        super().__init__()
        self.key, self.total = key, total


class DetailLoaded(Message):
    """A kernel read from the store, with its code already highlighted for the current view."""

    def __init__(self, kernel_id: str, detail: KernelDetail | None, view: tuple, panes: tuple[Code, Code]) -> None:
        super().__init__()
        self.kernel_id, self.detail, self.view, self.panes = kernel_id, detail, view, panes


class DetailPrefetched(Message):
    """A kernel near the cursor, read and highlighted ahead of the move that shows it."""

    def __init__(self, detail: KernelDetail) -> None:
        super().__init__()
        self.detail = detail


class ReviewsSaved(Message):
    """Queued label/note changes were written (``error``: why the rest were not)."""

    def __init__(self, kernel_ids: list[str], error: str | None) -> None:
        super().__init__()
        self.kernel_ids, self.error = kernel_ids, error


class ClusterLoaded(Message):
    def __init__(self, members: list[ClusterMember], dedup: dict | None) -> None:
        super().__init__()
        self.members, self.dedup = members, dedup


class StatsLoaded(Message):
    def __init__(self, stats: dict) -> None:
        super().__init__()
        self.stats = stats
