"""The main review screen: category sidebar, lazy kernel list, split code view, status bar."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, OptionList

from curator.store.review import KernelDetail
from curator.tui.access import StoreAccess
from curator.tui.messages import (
    CategoriesLoaded,
    DetailLoaded,
    DetailPrefetched,
    ListCounted,
    PageLoaded,
)
from curator.tui.screens.actions import ActionsMixin
from curator.tui.screens.loaders import DetailCache, Geometry, LoadersMixin, render_panes
from curator.tui.views import (
    DEVICE_LABELS,
    STATUS_MARKS,
    Code,
    StyleParser,
    style_parser,
    verification_label,
)
from curator.tui.widgets.category_list import CategoryList
from curator.tui.widgets.code_view import CodeView
from curator.tui.widgets.kernel_list import KernelList
from curator.tui.widgets.status_bar import StatusBar

# Kernels read ahead of the cursor: the next rows (a reviewer moves down), then the previous one.
PREFETCH_AHEAD, PREFETCH_BEHIND = 3, 1
PREFETCH_DELAY = 0.04  # s: about two frames at 60 fps


class MainScreen(ActionsMixin, LoadersMixin, Screen):
    """Review state lives in two reactives: ``view`` (device, piece, side by side) redraws the
    panes when it changes, ``list_key`` (category, review filter, search) reloads the list."""

    AUTO_FOCUS = "#kernels"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "label('accepted')", "Accept"),
        Binding("x", "label('rejected')", "Reject"),
        Binding("f", "label('flagged')", "Flag"),
        Binding("c", "clear_label", "Clear label", show=False),
        Binding("n", "note", "Note"),
        Binding("u", "next_unreviewed", "Next unreviewed", show=False),
        Binding("d", "device", "Device"),
        Binding("p", "piece", "Piece"),
        Binding("s", "side_by_side", "CPU|CUDA"),
        Binding("v", "filter", "Filter", show=False),
        Binding("slash", "search", "Search"),
        Binding("escape", "end_search", "End search", show=False),
        Binding("m", "dups", "Near-dups"),
        Binding("t", "stats", "Stats"),
        Binding("left_square_bracket", "category(-1)", "Previous category", show=False),
        Binding("right_square_bracket", "category(1)", "Next category", show=False),
        Binding("r,f5", "refresh", "Refresh", show=False),
    ]

    view: reactive[tuple[str, str, bool]] = reactive(("cpu", "forward", False), init=False)
    list_key: reactive[tuple[str | None, str, str | None]] = reactive((None, "all", None), init=False)

    def __init__(self, access: StoreAccess) -> None:
        super().__init__()
        self.access = access
        self.total: int | None = None
        self.detail: KernelDetail | None = None
        self.wanted_id: str | None = None  # the kernel asked for (shown once loaded)
        self.details = DetailCache()  # read or prefetched kernels: a move to one shows it at once
        self._parser: tuple[str, StyleParser] | None = None  # (theme, its style parser)
        self._prefetch_timer: Timer | None = None
        self.advance_pending = False
        self.empty_store = False

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            with Horizontal(id="body"):
                yield CategoryList(id="categories")
                with Vertical(id="work"):
                    yield KernelList(id="kernels")
                    with Horizontal(id="panes"):
                        yield CodeView(id="left")
                        yield CodeView(id="right")
            yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#categories").border_title = "categories"
        self.watch(self.query_one(KernelList), "highlighted", self.kernel_highlighted, init=False)
        self.reload_list()  # all categories, loaded at once rather than after the counts
        self.load_categories()
        self.update_status()

    # -- state --------------------------------------------------------------------------
    @property
    def device(self) -> str:
        return self.view[0]

    @property
    def piece(self) -> str:
        return self.view[1]

    @property
    def side_by_side(self) -> bool:
        return self.view[2]

    @property
    def category(self) -> str | None:
        return self.list_key[0]

    @property
    def filter(self) -> str:
        return self.list_key[1]

    @property
    def search(self) -> str | None:
        return self.list_key[2]

    def watch_view(self) -> None:
        self.redraw()

    def watch_list_key(self) -> None:
        self.reload_list()
        self.update_status()

    # -- loading ------------------------------------------------------------------------
    def reload_list(self) -> None:
        kernels = self.query_one(KernelList)
        kernels.loading = True
        self.load_page(self.list_key, 0, True)

    def on_categories_loaded(self, message: CategoriesLoaded) -> None:
        self.empty_store = not message.counts
        self.query_one(CategoryList).set_counts(message.counts)
        if self.empty_store:
            db = self.access.store.path
            text = (
                f"This store ({db}) holds no kernels yet.\n\n"
                f"Make some with `curator generate --db {db}`, then press r to refresh."
            )
            self.query_one("#left", CodeView).show(text)
            self.query_one("#right", CodeView).show("")
        self.update_status()

    @on(OptionList.OptionHighlighted, "#categories")
    def category_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        category = self.query_one(CategoryList).category
        if category != self.category or self.search is not None:
            self.list_key = (category, self.filter, None)

    def on_page_loaded(self, message: PageLoaded) -> None:
        if message.key != self.list_key:
            return  # a page of a list the user already left
        kernels = self.query_one(KernelList)
        if message.reset:
            kernels.reset(message.rows, message.has_more, show_category=self.list_key[0] is None)
            if not message.rows:
                self.detail = None
                if not self.empty_store:
                    self.query_one("#left", CodeView).show("No kernels in this list.")
                    self.query_one("#right", CodeView).show("")
        else:
            kernels.append(message.rows, message.has_more)
        if self.advance_pending:
            self.advance_pending = False
            self.action_next_unreviewed()
        self.update_status()

    def on_list_counted(self, message: ListCounted) -> None:
        if message.key == self.list_key:
            self.total = message.total
            self.update_status()

    def on_kernel_list_need_more(self, message: KernelList.NeedMore) -> None:
        self.load_page(self.list_key, self.query_one(KernelList).last_rowid, False)

    def kernel_highlighted(self, index: int | None) -> None:
        # A watcher, not the OptionHighlighted message: it runs inside the key press, so the list's
        # cursor and the kernel it points at are painted in the same frame.
        rows = self.query_one(KernelList).rows
        if index is not None and index < len(rows):
            self.show_kernel(rows[index].id)

    def show_kernel(self, kernel_id: str) -> None:
        self.wanted_id = kernel_id
        detail = self.details.get(kernel_id)
        if detail is not None:
            # Read ahead: shown in this same handler, so the move costs one repaint.
            self.detail = detail
            self.redraw()
        else:
            self.load_detail(kernel_id, self.view, self.geometry)
            self.update_status()
        # Read ahead once this move is painted: a worker holding the GIL would slow the repaint
        # (and while keys repeat faster than this, nothing is read ahead of a passing cursor).
        if self._prefetch_timer is not None:
            self._prefetch_timer.stop()
        self._prefetch_timer = self.set_timer(PREFETCH_DELAY, self.prefetch_around)

    def prefetch_around(self) -> None:
        kernels = self.query_one(KernelList)
        current = kernels.current
        if current is None or current.id != self.wanted_id or kernels.highlighted is None:
            return
        index = kernels.highlighted
        near = (
            kernels.rows[index + 1 : index + 1 + PREFETCH_AHEAD] + kernels.rows[max(0, index - PREFETCH_BEHIND) : index]
        )
        wanted = [row.id for row in near if row.id not in self.details]
        if wanted:
            self.prefetch(wanted, self.view, self.geometry)

    def on_detail_prefetched(self, message: DetailPrefetched) -> None:
        detail = message.detail
        if detail.id in self.details:
            return  # keep the object already cached (it may carry a label just set)
        self.details.put(detail)
        if detail.id == self.wanted_id and (self.detail is None or self.detail.id != detail.id):
            self.detail = detail  # it was still loading: show the prefetched copy now
            self.redraw()

    @property
    def geometry(self) -> Geometry:
        theme = self.app.theme
        if self._parser is None or self._parser[0] != theme:
            self._parser = theme, style_parser(self.app.get_css_variables())
        left, right = self.query_one("#left", CodeView), self.query_one("#right", CodeView)
        return left.geometry, right.geometry, self._parser[1]

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        if message.kernel_id != self.wanted_id:
            return
        if self.detail is not None and self.detail.id == message.kernel_id:
            return  # already shown from its prefetched copy
        if message.detail is not None:
            self.details.put(message.detail)
        self.detail = message.detail
        if message.detail is None:
            self.query_one("#left", CodeView).show(f"Kernel {message.kernel_id} is no longer in the store.")
            self.query_one("#right", CodeView).show("")
        elif message.view == self.view:
            self.show_panes(message.panes)
        else:
            self.redraw()
        self.update_status()

    def redraw(self) -> None:
        """Show the current kernel in the current view (highlighting is cached)."""
        if self.detail is not None:
            self.show_panes(render_panes(self.detail, self.view))
        self.update_status()

    def show_panes(self, panes: tuple[Code, Code]) -> None:
        left, right = self.query_one("#left", CodeView), self.query_one("#right", CodeView)
        left.show(panes[0])
        right.show(panes[1])
        d = self.detail
        assert d is not None
        if self.side_by_side:
            left.border_title = f"{DEVICE_LABELS['cpu']} · {self.piece}"
            right.border_title = f"{DEVICE_LABELS['cuda']} · {self.piece}"
            left.border_subtitle, right.border_subtitle = verification_label(d, "cpu"), verification_label(d, "cuda")
        else:
            left.border_title = f"Python · {d.name} · {d.category}"
            right.border_title = f"{DEVICE_LABELS[self.device]} · {self.piece}"
            mark = f"{STATUS_MARKS[d.status]} {d.status or 'unreviewed'}"
            left.border_subtitle = mark + (f" · note: {d.note}" if d.note else "")
            right.border_subtitle = verification_label(d, self.device)

    def update_status(self) -> None:
        kernels = self.query_one(KernelList)
        counts = self.query_one(CategoryList).counts
        where = f"search “{self.search}”" if self.search is not None else (self.list_key[0] or "all categories")
        if self.filter != "all" and self.search is None:
            where += f" [{self.filter}]"
        title = f"kernels · {where}"
        if kernels.border_title != title:
            kernels.border_title = title  # setting it repaints the whole list
        position = (kernels.highlighted + 1) if kernels.highlighted is not None else 0
        total = self.total if self.total is not None else len(kernels.rows)
        view = "CPU | CUDA" if self.side_by_side else DEVICE_LABELS[self.device]
        cat = counts.get(self.list_key[0] or "*")
        everything = counts.get("*")
        parts = [f"db {self.access.store.path.name}", f"{view} · {self.piece}", f"{where} {position:,}/{total:,}"]
        if cat is not None and everything is not None:
            share = 100 * cat.reviewed / cat.kernels if cat.kernels else 0.0
            parts.append(f"reviewed {cat.reviewed:,}/{cat.kernels:,} ({share:.0f}%)")
            if cat is not everything:
                parts.append(f"all {everything.reviewed:,}/{everything.kernels:,}")
        # One line of fixed height: no relayout needed for new text.
        self.query_one(StatusBar).update(Content(" │ ".join(parts)), layout=False)
