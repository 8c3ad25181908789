"""The category sidebar: every category with its kernel and review counts."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from curator.store.review import CategoryCounts

ALL = "*"  # the option id of "all categories"


def _prompt(name: str, c: CategoryCounts) -> Content:
    return Content.assemble(
        (f"{name:<19}", "bold"),
        f"{c.kernels:>8,}\n  ",
        (f"rev {c.reviewed:,}  ✓{c.accepted:,} ✗{c.rejected:,} ⚑{c.flagged:,}", "dim"),
    )


class CategoryList(OptionList):
    """Highlighting a category selects it (the kernel list follows)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.counts: dict[str, CategoryCounts] = {}

    def set_counts(self, counts: list[CategoryCounts]) -> None:
        total = CategoryCounts(
            ALL,
            sum(c.kernels for c in counts),
            sum(c.accepted for c in counts),
            sum(c.rejected for c in counts),
            sum(c.flagged for c in counts),
        )
        keep = self.highlighted_option.id if self.highlighted_option is not None else None
        self.counts = {ALL: total} | {c.category: c for c in counts}
        with self.app.batch_update():
            self.clear_options()
            self.add_options(
                Option(_prompt("all categories" if cid == ALL else cid, c), id=cid) for cid, c in self.counts.items()
            )
            if keep in self.counts:
                self.highlighted = self.get_option_index(keep)
            elif self.option_count:
                self.highlighted = 0

    @property
    def category(self) -> str | None:
        """The selected category (None for all of them)."""
        option = self.highlighted_option
        return None if option is None or option.id == ALL else option.id
