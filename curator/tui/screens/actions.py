"""The main screen's actions: labels and notes, view and list switches, search, near-dups,
stats and refresh.  A mixin of ``MainScreen``; the state it changes lives there (reactives)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.reactive import reactive

from curator.records import DEVICES
from curator.store.review import REVIEW_FILTERS, KernelDetail
from curator.tui.messages import ReviewsSaved
from curator.tui.screens.dups import DupsScreen
from curator.tui.screens.loaders import DetailCache, Geometry, LoadersMixin
from curator.tui.screens.note import NoteScreen
from curator.tui.screens.search import SearchScreen
from curator.tui.screens.stats import StatsScreen
from curator.tui.screens.verification import VerificationScreen
from curator.tui.views import VIEWS
from curator.tui.widgets.category_list import CategoryList
from curator.tui.widgets.kernel_list import KernelList


class ActionsMixin(LoadersMixin):
    """Key actions of the main screen."""

    # MainScreen's state and methods these actions use, declared for the type checker (MainScreen
    # defines them; bare annotations and TYPE_CHECKING stubs add nothing at run time).
    view: reactive[tuple[str, str, bool]]
    list_key: reactive[tuple[str | None, str, str | None]]
    detail: KernelDetail | None
    wanted_id: str | None
    details: DetailCache
    advance_pending: bool
    if TYPE_CHECKING:

        @property
        def device(self) -> str: ...
        @property
        def piece(self) -> str: ...
        @property
        def side_by_side(self) -> bool: ...
        @property
        def category(self) -> str | None: ...
        @property
        def filter(self) -> str: ...
        @property
        def search(self) -> str | None: ...
        @property
        def geometry(self) -> Geometry: ...
        def redraw(self) -> None: ...
        def reload_list(self) -> None: ...
        def show_kernel(self, kernel_id: str) -> None: ...

    # -- review -------------------------------------------------------------------------
    def _shown(self) -> KernelDetail | None:
        if self.detail is None or self.detail.id != self.wanted_id:
            self.app.bell()
            return None
        return self.detail

    def action_label(self, status: str | None) -> None:
        detail = self._shown()
        if detail is None:
            return
        detail.status = status
        self.access.queue_review(detail.id, status=status)
        self.flush_reviews()
        kernels = self.query_one(KernelList)
        kernels.set_status(detail.id, status)
        self.redraw()
        current = kernels.current
        if status is not None and current is not None and current.id == detail.id:
            self.action_next_unreviewed()

    def action_clear_label(self) -> None:
        self.action_label(None)

    def action_note(self) -> None:
        detail = self._shown()
        if detail is None:
            return

        def save(note: str | None) -> None:
            if note is None:
                return  # cancelled
            detail.note = note or None
            self.access.queue_review(detail.id, note=note)
            self.flush_reviews()
            self.redraw()

        self.app.push_screen(NoteScreen(detail.name, detail.note or ""), save)

    def on_reviews_saved(self, message: ReviewsSaved) -> None:
        if message.error:
            self.notify(message.error + "; it is kept and retried on the next label", severity="error")
        if message.kernel_ids:
            self.load_categories()

    def action_next_unreviewed(self) -> None:
        kernels = self.query_one(KernelList)
        index = kernels.next_unreviewed_index()
        if index is not None:
            kernels.highlighted = index
        elif kernels.has_more:
            self.advance_pending = True
            if not kernels.loading:
                kernels.loading = True
                self.load_page(self.list_key, kernels.last_rowid, False)
        else:
            self.notify("No unreviewed kernel after this one in the list.")

    # -- switches -----------------------------------------------------------------------
    def action_device(self) -> None:
        self.view = (DEVICES[(DEVICES.index(self.device) + 1) % len(DEVICES)], self.piece, False)

    def action_piece(self) -> None:
        self.view = (self.device, VIEWS[(VIEWS.index(self.piece) + 1) % len(VIEWS)], self.side_by_side)

    def action_side_by_side(self) -> None:
        self.view = (self.device, self.piece, not self.side_by_side)

    def action_filter(self) -> None:
        following = REVIEW_FILTERS[(REVIEW_FILTERS.index(self.filter) + 1) % len(REVIEW_FILTERS)]
        self.list_key = (self.category, following, None)

    def action_category(self, step: int) -> None:
        categories = self.query_one(CategoryList)
        if categories.option_count:
            categories.highlighted = ((categories.highlighted or 0) + step) % categories.option_count

    # -- search, near-dups, stats, refresh ------------------------------------------------
    def action_search(self) -> None:
        def run(text: str | None) -> None:
            if text is not None and text.strip():
                self.list_key = (self.category, self.filter, text.strip())
                self.query_one(KernelList).focus()

        self.app.push_screen(SearchScreen(self.search or ""), run)

    def action_end_search(self) -> None:
        if self.search is not None:
            self.list_key = (self.category, self.filter, None)

    def action_dups(self) -> None:
        detail = self._shown()
        if detail is not None:
            self.app.push_screen(DupsScreen(self.access, detail.id, detail.name), self.open_kernel)

    def action_verification(self) -> None:
        detail = self._shown()
        if detail is not None:
            self.app.push_screen(VerificationScreen(detail))

    def open_kernel(self, kernel_id: str | None) -> None:
        if kernel_id is not None and not self.query_one(KernelList).select_id(kernel_id):
            self.show_kernel(kernel_id)

    def action_stats(self) -> None:
        self.app.push_screen(StatsScreen(self.access))

    def action_refresh(self) -> None:
        """Pick up what `curator generate` wrote since: counts, new kernels, the shown kernel."""
        self.load_categories()
        kernels = self.query_one(KernelList)
        if self.search is not None or not kernels.rows:
            self.reload_list()
        else:
            kernels.loading = True
            self.load_page(self.list_key, kernels.last_rowid, False)
        self.details.clear()
        if self.wanted_id is not None:
            self.detail = None  # read it again (on_detail_loaded shows the fresh copy)
            self.load_detail(self.wanted_id, self.view, self.geometry)
