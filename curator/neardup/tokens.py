"""Source normalisation for near-duplicate detection: tokens with names, numbers and strings
replaced, and the skeleton hash of a kernel's normalised source."""

from __future__ import annotations

import hashlib
import io
import keyword
import tokenize

# Names kept verbatim by the normaliser besides keywords and ``wp.<attr>`` chains: Python
# builtins and the scalar type names kernels use in annotations.
KEPT_NAMES = frozenset(
    {"range", "int", "float", "bool", "len", "min", "max", "abs", "print", "tuple", "dtype", "ndim", "warp"}
)


def normalize_tokens(source: str) -> list[str]:
    """Tokens of ``source`` with identifiers -> ``ID``, numbers -> ``NUM``, strings -> ``STR``.

    Keywords, operators, Warp API names (``wp.sin``, ``wp.vec3``, ``wp.types.float16``) and a
    few Python builtins are kept, so two kernels that differ only in naming and constants give
    the same token list.  Comments, docstrings' text, and layout do not count.
    """
    out: list[str] = []
    after_wp = False  # the previous tokens were ``wp .`` (or ``wp.x .``)
    prev_wp_name = False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source.split()
    for tok in tokens:
        kind, text = tok.type, tok.string
        if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
            continue
        if kind == tokenize.NAME:
            if text == "wp" or after_wp or keyword.iskeyword(text) or text in KEPT_NAMES:
                out.append(text)
                prev_wp_name = text == "wp" or after_wp
            else:
                out.append("ID")
                prev_wp_name = False
            after_wp = False
            continue
        if kind == tokenize.OP and text == "." and prev_wp_name:
            after_wp = True
            out.append(".")
            continue
        after_wp = prev_wp_name = False
        if kind == tokenize.NUMBER:
            out.append("NUM")
        elif kind == tokenize.STRING:
            out.append("STR")
        elif kind == tokenize.NEWLINE:
            out.append("\n")
        elif kind == tokenize.INDENT:
            out.append("<IN>")
        elif kind == tokenize.DEDENT:
            out.append("<DE>")
        else:
            out.append(text)
    return out


def skeleton(source: str) -> str:
    """The normalised source as one string (identifiers and numbers replaced)."""
    return " ".join(normalize_tokens(source))


def skeleton_hash(source: str) -> str:
    """A stable hash of the normalised source: equal for renamed/re-constanted clones."""
    return skeleton_hash_of_tokens(normalize_tokens(source))


def skeleton_hash_of_tokens(tokens: list[str]) -> str:
    return hashlib.sha256(" ".join(tokens).encode()).hexdigest()[:32]
