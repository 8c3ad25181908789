"""Near-duplicate detection: source normalisation, token shingles, MinHash signatures and LSH
clustering.  No SQL, no Warp, no Textual here."""

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


# -- MinHash signatures ------------------------------------------------------------------
NUM_PERM = 128
MINHASH_SEED = 1
SHINGLE = 5  # token n-gram length

_template = None


def _template_minhash():
    """An empty MinHash whose permutations are made once per process (the constructor is the
    cost); each signature is a copy of it, as ``MinHash.generator`` does."""
    global _template
    if _template is None:
        import xxhash
        from datasketch import MinHash

        _template = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, hashfunc=xxhash.xxh32_intdigest)
    return _template


def shingles(tokens: list[str], n: int = SHINGLE) -> set[bytes]:
    """The distinct token n-grams (one shingle for inputs shorter than n), as bytes."""
    if len(tokens) < n:
        return {" ".join(tokens).encode()}
    return {" ".join(tokens[i : i + n]).encode() for i in range(len(tokens) - n + 1)}


def minhash_of_tokens(tokens: list[str]):
    """A LeanMinHash of the token shingles (xxhash, fixed seed, NUM_PERM permutations)."""
    from datasketch import LeanMinHash

    m = _template_minhash().copy()
    m.update_batch(list(shingles(tokens)))
    return LeanMinHash(m)


def signature(source: str) -> bytes:
    """The MinHash signature BLOB stored with each kernel (LeanMinHash.serialize)."""
    return signature_of_tokens(normalize_tokens(source))


def signature_of_tokens(tokens: list[str]) -> bytes:
    m = minhash_of_tokens(tokens)
    buf = bytearray(m.bytesize())
    m.serialize(buf)
    return bytes(buf)


def load_signature(blob: bytes):
    from datasketch import LeanMinHash

    return LeanMinHash.deserialize(blob)
