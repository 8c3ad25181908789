"""The near-duplicate cluster of a kernel (from `curator dedup`); Enter opens a member."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from curator.tui.access import StoreAccess
from curator.tui.messages import ClusterLoaded


class DupsScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,m", "close", "Close")]

    def __init__(self, access: StoreAccess, kernel_id: str, kernel_name: str) -> None:
        super().__init__()
        self.access, self.kernel_id, self.kernel_name = access, kernel_id, kernel_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="dups"):
            yield Label(f"Near-duplicates of {self.kernel_name}", id="dups-title")
            yield Label("loading…", id="dups-info")
            yield OptionList(id="members")

    def on_mount(self) -> None:
        self.query_one("#members").focus()
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        members, info = self.access.scan(lambda s: (s.cluster_of(self.kernel_id), s.dedup_info()))
        if not get_current_worker().is_cancelled:
            self.post_message(ClusterLoaded(members, info))

    def on_cluster_loaded(self, message: ClusterLoaded) -> None:
        info_label = self.query_one("#dups-info", Label)
        if message.dedup is None:
            info_label.update("No near-duplicate clusters yet: make them with `curator dedup`.")
            return
        others = [m for m in message.members if m.id != self.kernel_id]
        threshold = message.dedup["threshold"]
        if not others:
            info_label.update(f"This kernel has no near-duplicates (estimated Jaccard ≥ {threshold}).")
            return
        info_label.update(
            f"{len(others)} other kernel(s) in its cluster (threshold {threshold}); similarity is the"
            " estimated Jaccard to the cluster's representative (★). Enter opens one."
        )
        members = self.query_one("#members", OptionList)
        for m in message.members:
            here = " (this kernel)" if m.id == self.kernel_id else ""
            star = "★ " if m.representative else "  "
            prompt = Content.assemble(
                star, (f"{m.similarity:5.2f}  ", "bold"), m.name, (f"  {m.category}{here}", "dim")
            )
            members.add_option(Option(prompt, id=m.id))
        members.highlighted = next(i for i, m in enumerate(message.members) if m.id != self.kernel_id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
