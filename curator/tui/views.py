"""What the code panes show: devices, pieces, the code text of a view, and its highlighting."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from rich.segment import Segment
from textual.content import Content
from textual.highlight import highlight
from textual.strip import Strip
from textual.style import Style

from curator.records import PIECES as PIECE_COLUMNS
from curator.store.review import KernelDetail

DEVICE_LABELS = {"cpu": "CPU C++", "cuda": "CUDA C++"}
# The pieces a reviewer switches between; "full" is the kernel's whole generated code
# (structs, functions, args struct, forward, backward, entry points).
VIEWS = ("forward", "backward", "full")
STATUS_MARKS = {None: "·", "accepted": "✓", "rejected": "✗", "flagged": "⚑"}


def code_of(detail: KernelDetail, device: str, piece: str) -> str | None:
    """The generated code of one view, or None where the kernel has no code for ``device``."""
    pieces = detail.artifacts.get(device)
    if pieces is None:
        return None
    if piece == "full":
        return "".join(pieces[p] for p in PIECE_COLUMNS)
    return pieces[piece]


StyleParser = Callable[[str | Style], Style]


def style_parser(variables: dict[str, str]) -> StyleParser:
    """Parses highlighting styles with the theme's ``variables`` (App.get_css_variables()).

    Outside the event loop there is no active app to take them from (Style.parse would drop
    every ``$colour``), and the app's own style cache is not meant for other threads.
    """

    @lru_cache(maxsize=512)
    def parse(style: str | Style) -> Style:
        return style if isinstance(style, Style) else Style.parse(style, variables)

    return parse


class Code:
    """Code text whose Pygments highlighting is done lazily, CHUNK lines at a time, as the lines
    come into view: a kernel's visible part is shown without lexing all of it (Pygments' C++
    lexer costs ~1.5 ms per 1,000 characters; full kernels are 50 KB and more).

    Chunks are lexed independently, so a construct spanning a chunk boundary (say a block
    comment) may be coloured as code there; Warp's generated code uses line comments.
    """

    CHUNK = 64

    def __init__(self, text: str, language: str | None = None) -> None:
        self.text = text
        self.language = language
        self.lines = text.expandtabs(4).split("\n")
        self.width = max((len(line) for line in self.lines), default=0)
        self._chunks: dict[int, list[Content]] = {}
        # Lines rendered to strips in ``_style``: a pane draws a cached line by cropping it.
        self._strips: dict[int, Strip] = {}
        self._style: Style | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def line(self, index: int) -> Content:
        chunk, offset = divmod(index, self.CHUNK)
        lines = self._chunks.get(chunk)
        if lines is None:
            lines = self._chunks[chunk] = self._render(chunk)
        return lines[offset]

    def strip(self, index: int, style: Style, parse: StyleParser | None = None) -> Strip:
        """Line ``index`` rendered in the pane's ``style``, cached (repaints just crop it).

        ``parse`` resolves the theme's colour variables in a worker thread (see style_parser).
        """
        if style != self._style:
            self._strips, self._style = {}, style
        strip = self._strips.get(index)
        if strip is None:
            line = self.line(index)
            if parse is None:
                segments = line.render_segments(style)
            else:
                segments = [Segment(t, s.rich_style if s else None) for t, s in line.render(style, "", parse)]
            strip = self._strips[index] = Strip(segments, line.cell_length)
        return strip

    def prepare(
        self, lines: int = CHUNK, style: Style | None = None, width: int = 0, parse: StyleParser | None = None
    ) -> Code:
        """Highlight the first ``lines`` lines now (from a worker thread, before showing); given
        the pane's ``style`` and width, also render them as the pane will draw them."""
        lines = min(lines, len(self.lines))
        if style is None:
            for index in range(0, lines, self.CHUNK):
                self.line(index)
            return self
        for index in range(lines):
            self.strip(index, style, parse).crop_extend(0, width, style.rich_style)
        return self

    def _render(self, chunk: int) -> list[Content]:
        part = self.lines[chunk * self.CHUNK : (chunk + 1) * self.CHUNK]
        if self.language is None:
            return [Content(line) for line in part]
        out = highlight("\n".join(part), language=self.language).split("\n", allow_blank=True)
        # highlight() drops trailing blank lines: pad so line numbers still match.
        return out[: len(part)] + [Content("")] * (len(part) - len(out))


@lru_cache(maxsize=32)
def highlighted(text: str, language: str) -> Code:
    """Highlighted code, shared while it stays in view (switching device/piece and back)."""
    return Code(text, language)


def render_view(detail: KernelDetail, device: str, piece: str) -> Code:
    code = code_of(detail, device, piece)
    if code is None:
        return Code(f"(no {DEVICE_LABELS[device]} code stored for this kernel)")
    if not code.strip():
        return Code(f"(the {piece} piece is empty for {DEVICE_LABELS[device]})")
    return highlighted(code, "cpp")


def verification_label(detail: KernelDetail, device: str) -> str:
    """Compile, run and adjoint state from `curator verify` rows ('' if never verified), e.g.
    '✓ compiles (clang ...) · ✓ ran · grad pass'; `i` shows the diagnostics."""
    rows = [v for v in detail.verifications if v["device"] == device]
    parts = []
    if rows:
        bad = [v for v in rows if not v["ok"]]
        compilers = ", ".join(sorted({v["compiler"] for v in rows}))
        parts.append(f"✗ fails {bad[0]['compiler']}" if bad else f"✓ compiles ({compilers})")
    runs = [e for e in detail.executions if e["device"] == device]
    if runs:
        e = runs[-1]
        parts.append(("✓ " if e["status"] == "ran" else "✗ ") + e["status"])
        if e["grad"]:
            parts.append(f"grad {e['grad']}")
    return " · ".join(parts)


def verification_text(detail: KernelDetail) -> str:
    """Every compile and run of a kernel with its diagnostics (the `i` screen)."""
    out = []
    for v in detail.verifications:
        state = "passed" if v["ok"] else "FAILED"
        out += [f"{v['device']} compile {state}: {v['compiler']} [{v['options']}]", (v["diagnostics"] or "").rstrip()]
    for e in detail.executions:
        out.append(f"{e['device']} run {e['status']} (seed {e['seed']}, {e['warp']}): {e['message'] or ''}")
        out.append(
            f"  checksum {e['checksum']}  repeatable {e['repeatable']}  NaN/Inf {e['nonfinite']}"
            f"  pair check {'ok' if e['pair_ok'] else e['pair_ok']}"
        )
        if e["grad"]:
            err = f"{e['grad_error']:.3g}" if e["grad_error"] is not None else "-"
            out.append(f"  adjoint check {e['grad']} (worst relative error {err}): {e['grad_note'] or ''}")
    return "\n".join(line for line in out if line) or "Not verified yet (curator verify [--execute])."
