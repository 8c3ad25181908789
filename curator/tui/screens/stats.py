"""The stats screen: per device and category, kernels, bytes, distinct skeletons, failures and
review progress, with bar charts."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from curator.records import MIB
from curator.tui.access import StoreAccess
from curator.tui.messages import StatsLoaded
from curator.tui.views import DEVICE_LABELS
from curator.tui.widgets.bars import bar

if TYPE_CHECKING:
    from curator.store import Store

BAR = 16


def collect(store: Store) -> dict:
    """Everything the screen shows, read in one worker call."""
    return {
        "rows": store.stats(),
        "failures": store.failure_counts(),
        "reviews": {c.category: c for c in store.category_counts()},
    }


def device_table(device: str, rows: list[dict], failures: dict, reviews: dict) -> Table:
    kernels, size = sum(r["kernels"] for r in rows), sum(r["bytes"] for r in rows)
    title = f"{DEVICE_LABELS.get(device, device)}: {kernels:,} kernels, {size / MIB:,.2f} MiB"
    table = Table(title=title, title_justify="left", expand=False, padding=(0, 1))
    for col in ("category", "kernels", "", "MiB", "", "skeletons", "failures", "reviewed", ""):
        table.add_column(col, justify="left" if col in ("category", "") else "right", no_wrap=True)
    top_n = max((r["kernels"] for r in rows), default=0)
    top_b = max((r["bytes"] for r in rows), default=0)
    for r in rows:
        rev = reviews.get(r["category"])
        done, total = (rev.reviewed, rev.kernels) if rev else (0, r["kernels"])
        table.add_row(
            r["category"],
            f"{r['kernels']:,}",
            Text(bar(r["kernels"], top_n, BAR), style="cyan"),
            f"{r['bytes'] / MIB:,.2f}",
            Text(bar(r["bytes"], top_b, BAR), style="magenta"),
            f"{r['skeletons']:,}",
            f"{failures.get(r['category'], 0):,}",
            f"{done:,}/{total:,}",
            Text(bar(done, total, BAR // 2) + f" {100 * done / total if total else 0:3.0f}%", style="green"),
        )
    return table


class StatsScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,t,q", "close", "Back")]

    def __init__(self, access: StoreAccess) -> None:
        super().__init__()
        self.access = access

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="stats-body"):
            yield Static("reading the store…", id="stats")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#stats-body").focus()
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        stats = self.access.scan(collect)
        if not get_current_worker().is_cancelled:
            self.post_message(StatsLoaded(stats))

    def on_stats_loaded(self, message: StatsLoaded) -> None:
        s = message.stats
        by_device: dict[str, list[dict]] = {}
        for r in s["rows"]:
            by_device.setdefault(r["device"], []).append(r)
        if not by_device:
            self.query_one("#stats", Static).update("The store holds no kernels yet (`curator generate`).")
            return
        from rich.console import Group

        tables = [device_table(d, rows, s["failures"], s["reviews"]) for d, rows in sorted(by_device.items())]
        self.query_one("#stats", Static).update(Group(*tables))

    def action_close(self) -> None:
        self.dismiss()
