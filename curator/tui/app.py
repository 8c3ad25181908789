"""The review TUI's app: wiring only (screens, global keys, stylesheet)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from curator.store import Store
from curator.tui.access import StoreAccess
from curator.tui.gc_pause import GcPause
from curator.tui.screens.help import HelpScreen
from curator.tui.screens.main import MainScreen


class CuratorApp(App):
    """`CuratorApp(store)`: the one factory the CLI and the tests use."""

    TITLE = "curator browse"
    CSS_PATH = "curator.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, store: Store, *, theme: str = "textual-dark") -> None:
        super().__init__()
        self.access = StoreAccess(store)
        self.theme = theme
        self.gc_pause = GcPause()

    def on_mount(self) -> None:
        self.gc_pause.start()
        self.push_screen(MainScreen(self.access))

    def on_ready(self) -> None:
        self.gc_pause.start()

    def on_unmount(self) -> None:
        self.gc_pause.stop()
        self.access.close()  # the second (read-only) connection; the CLI closes the store

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen([*MainScreen.BINDINGS, *self.BINDINGS]))
