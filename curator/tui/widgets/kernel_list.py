"""The lazily loaded kernel list: pages are appended as the cursor nears the end."""

from __future__ import annotations

from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from curator.store.review import KernelRow
from curator.tui.views import STATUS_MARKS

# Ask for the next page when the cursor is this close to the last loaded row.
LOOKAHEAD = 40
_STATUS_STYLES: dict[str | None, str] = {
    "accepted": "$text-success",
    "rejected": "$text-error",
    "flagged": "$text-warning",
}


def _prompt(row: KernelRow, status: str | None, show_category: bool) -> Content:
    mark = STATUS_MARKS[status]
    style = _STATUS_STYLES.get(status, "dim")
    parts: list[str | tuple[str, str]] = [(f"{mark} ", style), row.name]
    if show_category:
        parts += ["  ", (row.category, "dim")]
    return Content.assemble(*parts)


class KernelList(OptionList):
    class NeedMore(Message):
        """The cursor is near the end of the loaded rows and more exist."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: list[KernelRow] = []
        self.status: dict[str, str | None] = {}
        self.has_more = False
        self.loading = False
        self.show_category = False

    def reset(self, rows: list[KernelRow], has_more: bool, show_category: bool) -> None:
        self.rows, self.status, self.show_category = [], {}, show_category
        self.clear_options()
        self.append(rows, has_more)
        if rows:
            self.highlighted = 0

    def append(self, rows: list[KernelRow], has_more: bool) -> None:
        self.has_more, self.loading = has_more, False
        fresh = [r for r in rows if r.id not in self.status]
        self.rows.extend(fresh)
        self.status.update((r.id, r.status) for r in fresh)
        self.add_options(Option(_prompt(r, r.status, self.show_category), id=r.id) for r in fresh)

    @property
    def last_rowid(self) -> int:
        return self.rows[-1].rowid if self.rows else 0

    @property
    def current(self) -> KernelRow | None:
        index = self.highlighted
        return self.rows[index] if index is not None and index < len(self.rows) else None

    def set_status(self, kernel_id: str, status: str | None) -> None:
        if kernel_id not in self.status:
            return
        self.status[kernel_id] = status
        row = self.rows[self.get_option_index(kernel_id)]
        self.replace_option_prompt(kernel_id, _prompt(row, status, self.show_category))

    def next_unreviewed_index(self) -> int | None:
        """The first unlabelled row after the cursor among the loaded rows."""
        start = (self.highlighted or 0) + 1
        for index in range(start, len(self.rows)):
            if self.status[self.rows[index].id] is None:
                return index
        return None

    def select_id(self, kernel_id: str) -> bool:
        if kernel_id not in self.status:
            return False
        self.highlighted = self.get_option_index(kernel_id)
        return True

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        if highlighted is not None and self.has_more and not self.loading and highlighted >= len(self.rows) - LOOKAHEAD:
            self.loading = True
            self.post_message(self.NeedMore())
