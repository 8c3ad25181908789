"""The main screen's worker threads: every store read and write runs here, off the event loop,
and comes back as a message (curator.tui.messages)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from typing import TYPE_CHECKING

from textual import work
from textual.style import Style
from textual.worker import get_current_worker

from curator.records import DEVICES
from curator.store.review import KernelDetail
from curator.tui.access import StoreAccess
from curator.tui.messages import (
    CategoriesLoaded,
    DetailLoaded,
    DetailPrefetched,
    ListCounted,
    PageLoaded,
    ReviewsSaved,
)
from curator.tui.views import Code, StyleParser, highlighted, render_view

if TYPE_CHECKING:
    from textual.screen import Screen as _Host  # what MainScreen brings: post_message, workers
else:
    _Host = object  # at run time the mixin adds nothing to MainScreen's bases

PAGE_SIZE = 200
SEARCH_LIMIT = 1000
# How the panes draw their lines: (style, width, height) of the left and right pane, and how
# to parse the theme's styles off the event loop.
Geometry = tuple[tuple[Style, int, int], tuple[Style, int, int], StyleParser]


class DetailCache:
    """Kernels already read (shown or prefetched), by id, least recently used dropped first.

    The shown kernel's object is the one cached, so a label or note set on it stays true here.
    """

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._details: OrderedDict[str, KernelDetail] = OrderedDict()

    def get(self, kernel_id: str) -> KernelDetail | None:
        detail = self._details.get(kernel_id)
        if detail is not None:
            self._details.move_to_end(kernel_id)
        return detail

    def put(self, detail: KernelDetail) -> None:
        self._details[detail.id] = detail
        self._details.move_to_end(detail.id)
        while len(self._details) > self.size:
            self._details.popitem(last=False)

    def __contains__(self, kernel_id: str) -> bool:
        return kernel_id in self._details

    def clear(self) -> None:
        self._details.clear()


def render_panes(detail: KernelDetail, view: tuple[str, str, bool]) -> tuple[Code, Code]:
    """(left, right) pane contents: Python | device code, or CPU | CUDA side by side."""
    device, piece, side_by_side = view
    if side_by_side:
        return render_view(detail, DEVICES[0], piece), render_view(detail, DEVICES[1], piece)
    return highlighted(detail.source, "python"), render_view(detail, device, piece)


def prepare_panes(panes: tuple[Code, Code], geometry: Geometry | None) -> None:
    """Highlight and render what the panes' first screen shows (in a worker, not the event loop)."""
    if geometry is None:
        for pane in panes:
            pane.prepare()
        return
    left, right, parse = geometry
    for pane, (style, width, height) in zip(panes, (left, right), strict=True):
        if width > 0 and height > 0:
            pane.prepare(height, style, width, parse)
        else:  # not laid out yet: highlight a first chunk, the pane renders it
            pane.prepare()


class LoadersMixin(_Host):
    """Mixed into MainScreen, which provides ``access`` and receives the messages."""

    access: StoreAccess

    @work(thread=True, exclusive=True, group="categories")
    def load_categories(self) -> None:
        counts = self.access.scan(lambda s: s.category_counts())
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
        total = self.access.scan(lambda s: s.count_filtered(category, status))
        if not get_current_worker().is_cancelled:
            self.post_message(ListCounted(key, total))

    @work(thread=True, exclusive=True, group="detail")
    def load_detail(self, kernel_id: str, view: tuple[str, str, bool], geometry: Geometry | None = None) -> None:
        detail = self.access.read(lambda s: s.kernel_detail(kernel_id))
        if get_current_worker().is_cancelled:
            return
        panes = render_panes(detail, view) if detail else (Code(""), Code(""))
        prepare_panes(panes, geometry)
        if not get_current_worker().is_cancelled:
            self.post_message(DetailLoaded(kernel_id, detail, view, panes))

    @work(thread=True, exclusive=True, group="prefetch")
    def prefetch(self, kernel_ids: list[str], view: tuple[str, str, bool], geometry: Geometry | None) -> None:
        """Read and highlight the kernels a reviewer is likely to open next (the next rows, then
        the previous one) while the current one is read; a new move cancels what is left."""
        worker = get_current_worker()
        for kernel_id in kernel_ids:
            if worker.is_cancelled:
                return
            detail: KernelDetail | None = self.access.read(operator.methodcaller("kernel_detail", kernel_id))
            if detail is None or worker.is_cancelled:
                continue
            prepare_panes(render_panes(detail, view), geometry)
            self.post_message(DetailPrefetched(detail))

    @work(thread=True, group="write")
    def flush_reviews(self) -> None:
        written, error = self.access.flush_reviews()
        self.post_message(ReviewsSaved(written, error))
