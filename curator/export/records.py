"""One exported JSONL line per kernel and device: fixed keys, fixed types, null when absent."""

from __future__ import annotations

import json

# The keys of every line, in order, with what they hold; they follow
# curator.store.exports.EXPORT_COLUMNS.
FIELDS = (
    ("id", "content hash of the Python source (string)"),
    ("name", "the `@wp.kernel` function's name"),
    ("category", "the generator category"),
    ("device", "`cpu` or `cuda`"),
    ("source", "the Python module: the `@wp.kernel` and any `@wp.func`/`@wp.struct` it uses"),
    ("structs", "generated code of the structs the kernel uses (empty string when none)"),
    ("functions", "generated code of the `@wp.func` it calls, forward and adjoint"),
    ("args", "the kernel's argument struct (CPU; empty for CUDA)"),
    ("forward", "the generated forward kernel"),
    ("backward", "the generated backward (adjoint) kernel"),
    ("entry", "the CPU entry points (empty for CUDA, whose kernels are `__global__`)"),
    ("launch_dim", "launch dimensionality (int)"),
    ("kernel_args", "`[[name, annotation], ...]` of the kernel's parameters, or null"),
    ("skeleton_hash", "hash of the normalised source: equal for renamed or re-constanted clones"),
    ("origin", "`synthetic` (generated) or `real` (ingested from existing code)"),
    ("provenance", "JSON text: file, line, package, license of a real kernel; null for synthetic ones"),
    ("seed", "the generator seed of a synthetic kernel (int), else null"),
    ("run_seed", "the `--seed` of the `curator generate` run that made it (int), else null"),
    ("generator_version", "version of curator's kernel generator, else null"),
    ("warp_version", "the Warp version whose code generator produced the code"),
)
KEYS = tuple(k for k, _ in FIELDS)
STRING_KEYS = frozenset(KEYS) - {"launch_dim", "kernel_args", "seed", "run_seed"}


def record(row: tuple) -> dict:
    """The line's object from a store row (curator.store.exports.EXPORT_COLUMNS)."""
    rec = dict(zip(KEYS, row, strict=True))
    args = rec["kernel_args"]
    rec["kernel_args"] = [[str(x) for x in pair] for pair in json.loads(args)] if args is not None else None
    return rec


# Line breaks other than \n that JSON leaves raw but str.splitlines() and some readers split on.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def encode(rec: dict) -> bytes:
    """One UTF-8 JSON line (newline included) that every line splitter sees as one line.  Valid
    JSON whatever the text holds: a string that cannot be UTF-8 (a lone surrogate) makes the
    line fall back to ASCII escapes."""
    text = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
    if "\x85" in text or "\u2028" in text or "\u2029" in text:  # rare: a plain search first
        text = text.translate(_LINE_BREAKS)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(rec, separators=(",", ":")) + "\n").encode("ascii")
