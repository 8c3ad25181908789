"""The store's shared query helpers: IN lists longer than one chunk, rows as dicts."""

import sqlite3

from curator.store import Store
from curator.store import base as store_base
from tests.unit.test_store import record

# More ids than two chunks hold, so a query runs three times; every 7th is stored.
ASKED = [f"k{i:05d}" for i in range(2 * store_base.IN_CHUNK + 3)]
STORED = ASKED[::7]


def test_chunked_covers_every_value_once_in_order():
    values = list(range(1003))
    chunks = list(store_base.chunked(values, 500))
    assert [len(c) for c in chunks] == [500, 500, 3]
    assert [v for c in chunks for v in c] == values
    assert list(store_base.chunked([], 500)) == []


def _store(tmp_path):
    s = Store.open(tmp_path / "s.db", create=True)
    s.write_batch([record(kid) for kid in STORED], [], None)
    return s


def test_in_queries_over_several_chunks(tmp_path):
    with _store(tmp_path) as s:
        # the answer for a list past SQLite's 999 parameters, with parameters before the list
        assert s.artifact_ids("cuda", ASKED) == set(STORED)
        assert s.skeleton_hashes(ASKED) == {kid: "s" + kid for kid in STORED}
        assert set(s.kernel_sources(reversed(ASKED))) == set(STORED)
        assert set(s.artifact_pieces(ASKED, "cpu")) == set(STORED)
        assert s.artifact_pieces(ASKED, "cpu")[STORED[-1]]["forward"] == f"// forward of {STORED[-1]}\n"
        assert s.executed_ids("cpu", 1, "1.19.0", ASKED) == set()
        assert s.artifact_ids("cpu", []) == set()


def test_rewriting_a_batch_past_one_chunk_adds_nothing(tmp_path):
    with _store(tmp_path) as s:
        again = s.write_batch([record(kid) for kid in STORED], [], None)
        assert (again.kernels, again.artifacts, again.duplicates) == (0, 0, len(STORED))
        assert s.count_kernels() == len(STORED)


def test_rows_as_dicts_keyed_by_column(tmp_path):
    with _store(tmp_path) as s:
        kid = STORED[0]
        assert s.get_kernel("nope") is None
        kernel = s.get_kernel(kid)
        columns = [r[1] for r in s.conn.execute("PRAGMA table_info(kernels)")]
        assert kernel is not None and list(kernel) == columns
        assert kernel["id"] == kid and kernel["category"] == "arithmetic"
        s.set_review(kid, "accepted", "fine")
        assert s.review_of(kid) == {"status": "accepted", "note": "fine", "updated_at": s.review_events(kid)[0]["at"]}
        detail = s.kernel_detail(kid)
        assert detail is not None and set(detail.artifacts) == {"cpu", "cuda"}
        assert list(detail.artifacts["cuda"]) == ["structs", "functions", "args", "forward", "backward", "entry"]


def test_row_dict_names_come_from_the_cursor():
    conn = sqlite3.connect(":memory:")
    cur = conn.execute("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y'")
    assert store_base.row_dicts(cur) == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
