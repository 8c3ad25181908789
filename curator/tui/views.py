"""What the code panes show: devices, pieces, the code text of a view, and its highlighting."""

from __future__ import annotations

from functools import lru_cache

from textual.content import Content
from textual.highlight import highlight

from curator.store.kernels import PIECE_COLUMNS
from curator.store.review import KernelDetail

DEVICES = ("cpu", "cuda")
DEVICE_LABELS = {"cpu": "CPU C++", "cuda": "CUDA C++"}
# The pieces a reviewer switches between; "full" is the kernel's whole generated code
# (structs, functions, args struct, forward, backward, entry points).
PIECES = ("forward", "backward", "full")
STATUS_MARKS = {None: "·", "accepted": "✓", "rejected": "✗", "flagged": "⚑"}


def code_of(detail: KernelDetail, device: str, piece: str) -> str | None:
    """The generated code of one view, or None where the kernel has no code for ``device``."""
    pieces = detail.artifacts.get(device)
    if pieces is None:
        return None
    if piece == "full":
        return "".join(pieces[p] for p in PIECE_COLUMNS)
    return pieces[piece]


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

    def __len__(self) -> int:
        return len(self.lines)

    def line(self, index: int) -> Content:
        chunk, offset = divmod(index, self.CHUNK)
        lines = self._chunks.get(chunk)
        if lines is None:
            lines = self._chunks[chunk] = self._render(chunk)
        return lines[offset]

    def prepare(self, lines: int = CHUNK) -> Code:
        """Highlight the first ``lines`` lines now (from a worker thread, before showing)."""
        for index in range(0, min(lines, len(self.lines)), self.CHUNK):
            self.line(index)
        return self

    def _render(self, chunk: int) -> list[Content]:
        part = self.lines[chunk * self.CHUNK : (chunk + 1) * self.CHUNK]
        if self.language is None:
            return [Content(line) for line in part]
        out = highlight("\n".join(part), language=self.language).split("\n", allow_blank=True)
        # highlight() drops trailing blank lines: pad so line numbers still match.
        return out[: len(part)] + [Content("")] * (len(part) - len(out))


@lru_cache(maxsize=64)
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
    """'verified ok' / 'fails to compile' from `curator verify` rows, or '' if never verified."""
    rows = [v for v in detail.verifications if v["device"] == device]
    if not rows:
        return ""
    bad = [v for v in rows if not v["ok"]]
    if bad:
        return f"✗ fails {bad[0]['compiler']}"
    return "✓ compiles (" + ", ".join(sorted({v["compiler"] for v in rows})) + ")"
