"""A kernel's compile, CPU run and adjoint check results with their diagnostics (`i`)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from curator.store.review import KernelDetail
from curator.tui.views import verification_text


class VerificationScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,i", "close", "Close")]

    def __init__(self, detail: KernelDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="verification"):
            yield Label(f"Verification of {self.detail.name} ({self.detail.id})")
            with VerticalScroll():
                yield Static(Content(verification_text(self.detail)), id="verification-body")

    def action_close(self) -> None:
        self.dismiss(None)
