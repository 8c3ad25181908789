"""Review labels and notes, browsing pages, full-text search and near-dup clusters in the store."""

import pytest

from curator.store import KernelRecord, Store
from curator.store.review import fts_phrase

PIECES = ("structs", "functions", "args", "forward", "backward", "entry")


def record(i: int, category: str, body: str = "") -> KernelRecord:
    kid = f"k{i:04d}"
    pieces = {p: f"// {p} of {kid}\n" for p in PIECES}
    return KernelRecord(
        id=kid,
        name=f"{category}_{i:04d}",
        category=category,
        minhash=None,
        skeleton_hash=f"s{i % 3}",
        source=f"@wp.kernel\ndef {category}_{i:04d}(x: wp.array(dtype=float)):\n    {body or 'x[0] = 1.0'}\n",
        artifacts={d: {"pieces": pieces, "codegen_ms": 1.0, "warp_version": "1.19.0"} for d in ("cpu", "cuda")},
    )


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "r.db", create=True)
    recs = [record(i, "arithmetic") for i in range(7)] + [record(i, "vector") for i in range(7, 12)]
    recs.append(record(12, "vector", "wp.atomic_add(x, 0, 1.0)"))
    s.write_batch(recs, [], None)
    yield s
    s.close()


def test_labels_and_notes_are_stored_with_history(store, tmp_path):
    store.set_review("k0001", "accepted")
    store.set_review("k0001", note="looks right")
    store.set_review("k0001", "flagged")
    review = store.review_of("k0001")
    assert review["status"] == "flagged" and review["note"] == "looks right"
    assert review["updated_at"]
    events = store.review_events("k0001")
    assert [e["status"] for e in events] == ["accepted", "accepted", "flagged"]
    assert [e["note"] for e in events] == [None, "looks right", "looks right"]
    assert all(e["at"] for e in events)
    store.set_review("k0001", None)  # clear the label, keep the note
    cleared = store.review_of("k0001")
    assert cleared["status"] is None and cleared["note"] == "looks right"
    assert store.review_events("k0001")[-1]["status"] is None
    store.set_review("k0002", "rejected")
    store.close()
    with Store.open(tmp_path / "r.db") as again:  # survives a restart
        assert again.review_of("k0002")["status"] == "rejected"
        assert again.reviewed_ids("rejected") == {"k0002"}
        assert again.reviewed_ids("accepted") == set()


def test_bad_labels_are_refused_and_change_nothing(store):
    with pytest.raises(ValueError, match="unknown review status"):
        store.set_review("k0001", "great")
    with pytest.raises(KeyError):
        store.set_review("nope", "accepted")
    assert store.review_of("k0001") is None and store.review_of("nope") is None
    assert store.review_events("nope") == []


def test_category_counts(store):
    store.set_review("k0000", "accepted")
    store.set_review("k0001", "rejected")
    store.set_review("k0008", "flagged")
    store.set_review("k0009", note="only a note")
    counts = {c.category: c for c in store.category_counts()}
    assert list(counts) == ["arithmetic", "vector"]
    a, v = counts["arithmetic"], counts["vector"]
    assert (a.kernels, a.accepted, a.rejected, a.flagged, a.reviewed) == (7, 1, 1, 0, 2)
    assert (v.kernels, v.accepted, v.rejected, v.flagged, v.reviewed) == (6, 0, 0, 1, 1)


def test_keyset_pages_cover_the_list_once(store):
    seen, after = [], 0
    while page := store.kernel_page("arithmetic", "all", after, 3):
        assert len(page) <= 3
        seen += [r.id for r in page]
        after = page[-1].rowid
    assert seen == [f"k{i:04d}" for i in range(7)]
    assert store.count_filtered("arithmetic") == 7
    assert len(store.kernel_page(None, "all", 0, 100)) == 13


def test_review_filters(store):
    store.set_review("k0002", "accepted")
    store.set_review("k0004", "flagged")
    unreviewed = [r.id for r in store.kernel_page("arithmetic", "unreviewed", 0, 100)]
    assert "k0002" not in unreviewed and "k0004" not in unreviewed and len(unreviewed) == 5
    assert [r.id for r in store.kernel_page("arithmetic", "accepted", 0, 100)] == ["k0002"]
    assert [r.status for r in store.kernel_page(None, "flagged", 0, 100)] == ["flagged"]
    assert store.count_filtered("arithmetic", "unreviewed") == 5
    assert store.count_filtered(None, "rejected") == 0
    with pytest.raises(ValueError):
        store.kernel_page("arithmetic", "bogus")


def test_next_unreviewed_wraps_round(store):
    rows = store.kernel_page("arithmetic", "all", 0, 100)
    for r in rows[:3] + rows[4:]:
        store.set_review(r.id, "accepted")
    assert store.next_unreviewed("arithmetic", rows[5].rowid).id == rows[3].id
    store.set_review(rows[3].id, "rejected")
    assert store.next_unreviewed("arithmetic", 0) is None


def test_search_names_and_source(store):
    assert [r.name for r in store.search_kernels("atomic_add")] == ["vector_0012"]
    assert {r.category for r in store.search_kernels("vector")} == {"vector"}
    assert len(store.search_kernels("arith")) == 7  # prefix of the last word
    assert store.search_kernels("   ") == []


@pytest.mark.parametrize("text", ['"', "a\"b'c", "x) OR (y", "NEAR(a b)", "*", "col:foo", "-", "^x", "\\", "%_;--"])
def test_search_is_safe_for_any_text(store, text):
    store.search_kernels(text)  # no FTS5 syntax error, whatever the user types
    assert store.count_kernels() == 13


def test_fts_phrase_doubles_quotes():
    assert fts_phrase('a"b') == '"a""b"*'


def test_detail_has_both_devices_review_and_verifications(store):
    store.set_review("k0003", "accepted", note="fine")
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO verifications VALUES ('k0003', 'cpu', 'clang', '-O0', 0, 'error: x', 1.0, '2025-01-01',"
            " 'fast')"
        )
    d = store.kernel_detail("k0003")
    assert d.name == "arithmetic_0003" and d.status == "accepted" and d.note == "fine"
    assert set(d.artifacts) == {"cpu", "cuda"}
    assert d.artifacts["cuda"]["backward"] == "// backward of k0003\n"
    assert d.verifications[0]["ok"] == 0 and d.verifications[0]["compiler"] == "clang"
    assert store.kernel_detail("missing") is None


def test_clusters(store):
    assert store.dedup_info() is None
    assert store.cluster_of("k0001") == []
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO dedup_clusters VALUES (?, ?, ?)",
            [("k0001", "k0001", 1.0), ("k0002", "k0001", 0.9), ("k0005", "k0001", 0.75), ("k0003", "k0003", 1.0)],
        )
        conn.execute("INSERT INTO dedup_state VALUES (1, 0.7, 128, 'f', 13, 2, '2025-01-01')")
    assert store.dedup_info()["threshold"] == 0.7
    members = store.cluster_of("k0005")
    assert [m.id for m in members] == ["k0001", "k0002", "k0005"]
    assert members[0].representative and not members[1].representative
    assert [m.similarity for m in members] == [1.0, 0.9, 0.75]
    assert [m.id for m in store.cluster_of("k0003")] == ["k0003"]
    assert store.cluster_of("k0004") == []
