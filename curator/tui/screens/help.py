"""The help screen: every key of the browser, built from the bindings themselves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# Keys the list and code widgets handle themselves.
NAVIGATION = [
    ("↑ ↓ / PgUp PgDn / Home End", "move in the focused list or code pane"),
    ("Tab / Shift+Tab", "focus the next / previous pane"),
    ("Enter", "open the highlighted near-duplicate (near-dups view)"),
]


def _key(binding: Binding) -> str:
    names = {"slash": "/", "left_square_bracket": "[", "right_square_bracket": "]", "question_mark": "?"}
    return " / ".join(names.get(k, k) for k in binding.key.split(","))


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, bindings: Iterable[BindingType]) -> None:
        super().__init__()
        # a (key, action, description) tuple is what Binding(key, action, description) makes
        self.bindings = [b if isinstance(b, Binding) else Binding(*b) for b in bindings]

    def compose(self) -> ComposeResult:
        table = Table(title="curator browse: keys", title_justify="left", show_header=False, box=None)
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for b in self.bindings:
            table.add_row(_key(b), b.description)
        for key, what in NAVIGATION:
            table.add_row(key, what)
        with VerticalScroll(classes="dialog", id="help"):
            yield Static(table)

    def action_close(self) -> None:
        self.dismiss()
