"""The main screen's worker threads: every store read and write runs here, off the event loop,
and comes back as a message (curator.tui.messages)."""

from __future__ import annotations

from textual import work
from textual.worker import get_current_worker

from curator.store.review import KernelDetail
from curator.tui.access import StoreAccess
from curator.tui.messages import CategoriesLoaded, DetailLoaded, ListCounted, PageLoaded, ReviewsSaved
from curator.tui.views import DEVICES, Code, highlighted, render_view

PAGE_SIZE = 200
SEARCH_LIMIT = 1000


def render_panes(detail: KernelDetail, view: tuple[str, str, bool]) -> tuple[Code, Code]:
    """(left, right) pane contents: Python | device code, or CPU | CUDA side by side."""
    device, piece, side_by_side = view
    if side_by_side:
        return render_view(detail, DEVICES[0], piece), render_view(detail, DEVICES[1], piece)
    return highlighted(detail.source, "python"), render_view(detail, device, piece)


class LoadersMixin:
    """Mixed into MainScreen, which provides ``access`` and receives the messages."""

    access: StoreAccess

    @work(thread=True, exclusive=True, group="categories")
    def load_categories(self) -> None:
        counts = self.access.read(lambda s: s.category_counts())
        if not get_current_worker().is_cancelled:
            self.post_message(CategoriesLoaded(counts))

    @work(thread=True, exclusive=True, group="page")
    def load_page(self, key: tuple, after: int, reset: bool) -> None:
        """Load a page of the list ``key`` = (category, review filter, search text or None)."""
        category, status, search = key
        if search is not None:
            rows = self.access.read(lambda s: s.search_kernels(search, limit=SEARCH_LIMIT))
            if not get_current_worker().is_cancelled:
                self.post_message(PageLoaded(key, rows, reset, False))
                self.post_message(ListCounted(key, len(rows)))
            return
        rows = self.access.read(lambda s: s.kernel_page(category, status, after, PAGE_SIZE + 1))
        if get_current_worker().is_cancelled:
            return
        self.post_message(PageLoaded(key, rows[:PAGE_SIZE], reset, len(rows) > PAGE_SIZE))
        # Counting scans an index: done after the page is on screen, never before.
        total = self.access.read(lambda s: s.count_filtered(category, status))
        if not get_current_worker().is_cancelled:
            self.post_message(ListCounted(key, total))

    @work(thread=True, exclusive=True, group="detail")
    def load_detail(self, kernel_id: str, view: tuple[str, str, bool]) -> None:
        detail = self.access.read(lambda s: s.kernel_detail(kernel_id))
        if get_current_worker().is_cancelled:
            return
        panes = render_panes(detail, view) if detail else (Code(""), Code(""))
        for pane in panes:
            pane.prepare()  # highlight what the first screen shows, here rather than on the event loop
        if not get_current_worker().is_cancelled:
            self.post_message(DetailLoaded(kernel_id, detail, view, panes))

    @work(thread=True, group="write")
    def flush_reviews(self) -> None:
        written, error = self.access.flush_reviews()
        self.post_message(ReviewsSaved(written, error))
