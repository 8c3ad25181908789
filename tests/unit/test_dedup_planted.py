"""Planted clones: `curator export --dedup` drops renamed, re-constanted, exact and near copies
and keeps every distinct kernel (precision and recall on the planted pairs)."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner
from test_dedup import kernel_sources, make_record, rewrite

from curator.cli import main
from curator.store import Store


def near_clone(source: str, rng: random.Random) -> str:
    """``source`` with one body line duplicated (a small edit, not a rename)."""
    lines = source.splitlines()
    body = [i for i, line in enumerate(lines) if line.startswith("    ") and "=" in line]
    i = rng.choice(body)
    return "\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]]) + "\n"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    rng = random.Random(11)
    originals = kernel_sources(120, seed=3)
    groups: list[list[str]] = []  # ids: original first, then its planted copies
    kinds: dict[str, str] = {}  # clone id -> kind
    records = []
    for n, (name, _cat, src) in enumerate(originals):
        rec = make_record(name, "planted", src)
        records.append(rec)
        group = [rec.id]
        if n % 2 == 0:  # half the originals get copies
            copies = {
                "renamed": rewrite(src, rng, names=True, numbers=False),
                "reconstanted": rewrite(src, rng, names=False, numbers=True),
                "exact": src.replace("\n", "\n\n", 2) + "# copied\n",
            }
            if len(src.splitlines()) >= 20:  # one line more in a kernel of 20 lines or more
                copies["near"] = near_clone(src, rng)
            for kind, text in copies.items():
                c = make_record(f"{name}_{kind}", "planted", text)
                assert c.id != rec.id
                records.append(c)
                group.append(c.id)
                kinds[c.id] = kind
        groups.append(group)
    db = tmp_path_factory.mktemp("planted") / "p.db"
    with Store.open(db, create=True) as s:
        s.write_batch(records, [], None)
    assert sum(k == "near" for k in kinds.values()) >= 20
    return db, groups, kinds


def exported_ids(db, out, *extra) -> set[str]:
    res = CliRunner().invoke(
        main,
        [
            "export",
            "--db",
            str(db),
            "--out",
            str(out),
            "--device",
            "cpu",
            "--target-mb",
            "100",
            "--allow-short",
            *extra,
        ],
    )
    assert res.exit_code == 0, res.output
    lines = (out / "cpu" / "warp_kernels_cpu.jsonl").read_text().splitlines()
    return {json.loads(line)["id"] for line in lines}


def test_dedup_drops_planted_copies_and_keeps_distinct(planted, tmp_path):
    db, groups, kinds = planted
    everything = exported_ids(db, tmp_path / "all")
    assert len(everything) == sum(len(g) for g in groups)  # without --dedup nothing is dropped
    kept = exported_ids(db, tmp_path / "dedup", "--dedup")
    # The export: exactly one kernel of every planted group, every distinct kernel kept.
    assert all(len(kept & set(g)) == 1 for g in groups)
    assert len(kept) == len(groups)
    # Pairwise, from the clusters the export stored: planted (original, copy) pairs found
    # (recall, per kind of copy) and clustered pairs that were planted (precision).
    with Store.open(db) as s:
        rep = dict(s.conn.execute("SELECT kernel_id, representative FROM dedup_clusters"))
    members: dict[str, list[str]] = {}
    for k, r in rep.items():
        members.setdefault(r, []).append(k)
    predicted = {frozenset((a, b)) for m in members.values() for a in m for b in m if a < b}
    truth = {frozenset((a, b)) for g in groups for a in g for b in g if a < b}
    precision = len(predicted & truth) / len(predicted)
    recall = len(predicted & truth) / len(truth)
    assert precision == 1.0 and recall == 1.0, (precision, recall)
    for kind in ("renamed", "reconstanted", "exact", "near"):
        copies = [(g[0], c) for g in groups for c in g[1:] if kinds[c] == kind]
        assert copies and all(rep[o] == rep[c] for o, c in copies), kind
    manifest = json.loads((tmp_path / "dedup" / "manifest.json").read_text())
    removed = sum(len(g) - 1 for g in groups)
    assert manifest["dedup"]["removed"] == removed
    assert manifest["devices"]["cpu"]["dedup_removed"] == removed


def test_accepted_copy_represents_its_group(planted, tmp_path):
    db, groups, _kinds = planted
    group = next(g for g in groups if len(g) > 1)
    chosen = max(group)  # not the smallest id, so only the review can make it the representative
    with Store.open(db) as s:
        s.set_review(chosen, "accepted")
        s.set_review(min(group), "rejected")
    try:
        kept = exported_ids(db, tmp_path / "acc", "--dedup")
        assert kept & set(group) == {chosen}
        assert exported_ids(db, tmp_path / "acc2", "--dedup", "--status", "accepted") == {chosen}
    finally:
        with Store.open(db) as s:
            for i in group:
                s.set_review(i, None)
