"""A scrollable, read-only code pane that renders only the lines on screen (Line API)."""

from __future__ import annotations

from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style

from curator.tui.views import Code


class CodeView(ScrollView, can_focus=True):
    """Shows (lazily highlighted) code; cost per frame is the visible lines, whatever the length.

    Lines are drawn from strips the Code caches (rendered in a worker before the kernel is shown,
    see ``Code.prepare``), so repainting a pane is cropping cached strips.
    """

    DEFAULT_CSS = """
    CodeView { background: $surface; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.code = Code("")
        self._frame: tuple[Style, int] | None = None

    def show(self, code: Code | str) -> None:
        self.code = Code(code) if isinstance(code, str) else code
        size = Size(self.code.width, len(self.code))
        if size != self.virtual_size:
            self.virtual_size = size  # a relayout (scrollbars), only when the size changes
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    @property
    def text(self) -> str:
        return self.code.text

    @property
    def geometry(self) -> tuple[Style, int, int]:
        """(style, width, height) the lines are drawn in, for ``Code.prepare`` in a worker."""
        region = self.scrollable_content_region
        return self.visual_style, region.width, region.height

    def render_lines(self, crop: Region) -> list[Strip]:
        # Looked up once a frame rather than per line (rich_style walks every ancestor).
        self._frame = self.visual_style, self.scrollable_content_region.width
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        style, width = self._frame or (self.visual_style, self.scrollable_content_region.width)
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        if index >= len(self.code):
            return Strip.blank(width, style.rich_style)
        return self.code.strip(index, style).crop_extend(scroll_x, scroll_x + width, style.rich_style)
