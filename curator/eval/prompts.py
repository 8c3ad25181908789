"""The task of each record: the Python source (and, by option, the stored pieces other than the
target) given, the target piece(s) to be written; `curator eval prompts` writes one line each."""

from __future__ import annotations

import json
from pathlib import Path

from curator.records import PIECES

TARGETS = {"forward": ("forward",), "backward": ("backward",), "both": ("forward", "backward")}


def target_pieces(target: str) -> tuple[str, ...]:
    return TARGETS[target]


def prompt(record: dict, target: str, context: bool) -> dict:
    """One prompt: what a model runner needs and nothing of the answer."""
    wanted = target_pieces(target)
    out = {
        "id": record["id"],
        "name": record["name"],
        "category": record["category"],
        "device": record["device"],
        "target": list(wanted),
        "source": record["source"],
    }
    if context:
        out["context"] = {p: record["pieces"][p] for p in PIECES if p not in wanted}
    return out


def eligible(record: dict, target: str) -> bool:
    """A record is a task for ``target`` when it ran on the CPU and has every target piece."""
    return record.get("ran") in (None, "ran") and all(record["pieces"][p] for p in target_pieces(target))


def write_prompts(records: list[dict], target: str, context: bool, out: Path) -> int:
    n = 0
    with open(out, "w", encoding="utf-8") as fh:
        for r in records:
            if eligible(r, target):
                fh.write(json.dumps(prompt(r, target, context), ensure_ascii=False) + "\n")
                n += 1
    return n
