"""Read a predictions file: one JSON object a line with ``id``, the target piece(s) and an
optional ``sample`` index; every malformed line is a one-line error naming the line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from curator.eval import EvalError


@dataclass(frozen=True)
class Prediction:
    id: str
    sample: int
    pieces: dict  # target piece name -> code
    line: int


def read_predictions(path: Path, known_ids: set[str], targets: tuple[str, ...]) -> list[Prediction]:
    """Every prediction of ``path``; EvalError on the first malformed line."""
    out: list[Prediction] = []
    seen: dict[tuple[str, int], int] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        p = _parse(path, n, line, known_ids, targets)
        key = (p.id, p.sample)
        if key in seen:
            raise EvalError(f"{path}:{n}: duplicate sample {p.sample} of id {p.id} (first on line {seen[key]})")
        seen[key] = n
        out.append(p)
    return out


def _parse(path: Path, n: int, line: str, known_ids: set[str], targets: tuple[str, ...]) -> Prediction:
    where = f"{path}:{n}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EvalError(f"{where}: bad JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise EvalError(f"{where}: a prediction is a JSON object, not {type(obj).__name__}")
    if "id" not in obj:
        raise EvalError(f"{where}: missing field 'id'")
    if not isinstance(obj["id"], str) or obj["id"] not in known_ids:
        raise EvalError(f"{where}: unknown id {obj['id']!r} (not a task of this config and split)")
    for t in targets:
        if t not in obj:
            raise EvalError(f"{where}: missing field {t!r} (the target piece)")
        if not isinstance(obj[t], str):
            raise EvalError(f"{where}: field {t!r} must be a string of code")
    sample = obj.get("sample", 0)
    if not isinstance(sample, int) or isinstance(sample, bool) or sample < 0:
        raise EvalError(f"{where}: field 'sample' must be a non-negative integer")
    return Prediction(obj["id"], sample, {t: obj[t] for t in targets}, n)
