"""A scrollable, read-only code pane that renders only the lines on screen (Line API)."""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from curator.tui.views import Code


class CodeView(ScrollView, can_focus=True):
    """Shows (lazily highlighted) code; cost per frame is the visible lines, whatever the length."""

    DEFAULT_CSS = """
    CodeView { background: $surface; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.code = Code("")

    def show(self, code: Code | str) -> None:
        self.code = Code(code) if isinstance(code, str) else code
        self.virtual_size = Size(self.code.width, len(self.code))
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    @property
    def text(self) -> str:
        return self.code.text

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if index >= len(self.code):
            return Strip.blank(width, self.rich_style)
        line = self.code.line(index)
        strip = Strip(line.render_segments(self.visual_style), line.cell_length)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)
