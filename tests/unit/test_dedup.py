"""Near-dedup: the normaliser, shingles, bulk signature parsing, LSH pairs, clusters, and the
stored clusters of `curator dedup` (current or recomputed when the store changes)."""

from __future__ import annotations

import builtins
import io
import json
import keyword
import random
import tokenize

import numpy as np
import pytest
from click.testing import CliRunner
from datasketch import LeanMinHash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator import neardup
from curator.cli import main
from curator.kernels import categories_for, generate_kernel
from curator.store import KernelRecord, Store

# -- helpers ------------------------------------------------------------------------------
PYTHON_BUILTINS = frozenset(dir(builtins))


def _keyword_argument_names(toks) -> set[int]:
    """Indices of NAME tokens used as ``name=`` keyword arguments (an API's names: kept)."""
    depth, found = 0, set()
    for i, tok in enumerate(toks):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif tok.type == tokenize.NAME and depth and i + 1 < len(toks) and toks[i + 1].string == "=":
            found.add(i)
    return found


def rewrite(source: str, rng: random.Random, names: bool = True, numbers: bool = True) -> str:
    """``source`` with every user identifier renamed and every number changed, as a clone-maker
    would do: what a clone must keep to stay a valid kernel (Python keywords and builtins, the
    ``warp`` module, ``wp.<attr>`` chains, keyword-argument names) is decided here, not by
    asking the normaliser under test."""
    toks = list(tokenize.generate_tokens(io.StringIO(source).readline))
    kwargs = _keyword_argument_names(toks)
    mapping: dict[str, str] = {}
    out = []
    wp_chain = False  # inside ``wp.a.b``
    prev_dot = False
    for i, tok in enumerate(toks):
        kind, text = tok.type, tok.string
        if kind == tokenize.NAME:
            kept = (
                text in ("wp", "warp")
                or (wp_chain and prev_dot)
                or keyword.iskeyword(text)
                or text in PYTHON_BUILTINS
                or i in kwargs
            )
            if names and not kept:
                text = mapping.setdefault(text, f"n{rng.randrange(10**6)}_{len(mapping)}")
            wp_chain = kept and (text == "wp" or wp_chain)
            prev_dot = False
        elif kind == tokenize.OP and text == ".":
            prev_dot = True
        else:
            if kind == tokenize.NUMBER and numbers:
                text = rng.choice([str(rng.randrange(1000)), f"{rng.uniform(0, 100):.3f}", f"{rng.randrange(9)}e2"])
            wp_chain = prev_dot = False
        out.append((kind, text))
    return tokenize.untokenize(out)


def kernel_sources(n: int, seed: int = 0) -> list[tuple[str, str, str]]:
    """(name, category, source) of ``n`` distinct generated kernels (stress style: dense, mutually far apart)."""
    out = []
    categories = categories_for("stress")
    for i in range(n):
        spec = generate_kernel(seed * 100_000 + i, categories[i % len(categories)], "stress")
        out.append((spec.name, spec.category, spec.source))
    return out


def make_record(name: str, category: str, source: str, devices=("cpu", "cuda")) -> KernelRecord:
    from curator.records import kernel_id

    pieces = {p: f"// {p} of {name}\n" for p in ("structs", "functions", "args", "forward", "backward", "entry")}
    tokens = neardup.normalize_tokens(source)
    return KernelRecord(
        id=kernel_id(source),
        name=name,
        category=category,
        source=source,
        skeleton_hash=neardup.skeleton_hash_of_tokens(tokens),
        minhash=neardup.signature_of_tokens(tokens),
        artifacts={d: {"pieces": pieces, "codegen_ms": 1.0, "warp_version": "1.19.0"} for d in devices},
    )


SOURCES = kernel_sources(40)

# -- normaliser and shingles --------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SOURCES) - 1), st.integers(0, 2**32), st.booleans(), st.booleans())
def test_renaming_and_renumbering_keep_tokens(idx, seed, names, numbers):
    source = SOURCES[idx][2]
    clone = rewrite(source, random.Random(seed), names=names, numbers=numbers)
    assert clone != source or not (names or numbers)
    assert neardup.normalize_tokens(clone) == neardup.normalize_tokens(source)
    assert neardup.skeleton_hash(clone) == neardup.skeleton_hash(source)
    assert neardup.signature(clone) == neardup.signature(source)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, len(SOURCES) - 1), st.sampled_from(["wp.sin", "wp.vec3", "wp.float16"]))
def test_warp_names_operators_and_layout(idx, api):
    source = SOURCES[idx][2]
    toks = neardup.normalize_tokens(source)
    assert "ID" in toks
    assert all(t != "" for t in toks)
    # Comments and blank lines do not count; Warp API names do.
    assert neardup.normalize_tokens(source.replace("\n", "\n# a comment\n\n", 1)) == toks
    body = f"import warp as wp\n\n@wp.kernel\ndef k(a: wp.array(dtype=float)):\n    a[0] = {api}(1.0)\n"
    other = body.replace(api, "wp.cos" if api != "wp.cos" else "wp.tan")
    assert neardup.normalize_tokens(body) != neardup.normalize_tokens(other)
    assert neardup.normalize_tokens(body.replace("= ", "= -", 1)) != neardup.normalize_tokens(body)


def test_normaliser_examples():
    toks = neardup.normalize_tokens("x = wp.sin(y) + 2.5  # note\nif x > 3:\n    z = int(x)\n")
    assert toks == [
        "ID",
        "=",
        "wp",
        ".",
        "sin",
        "(",
        "ID",
        ")",
        "+",
        "NUM",
        "\n",
        "if",
        "ID",
        ">",
        "NUM",
        ":",
        "\n",
        "<IN>",
        "ID",
        "=",
        "int",
        "(",
        "ID",
        ")",
        "\n",
        "<DE>",
    ]
    # Source that does not tokenize still gives tokens (whitespace split), never an exception.
    assert neardup.normalize_tokens("def f(:\n  'unterminated") != []


@given(st.lists(st.sampled_from(["ID", "NUM", "+", "wp", ".", "sin", "(", ")", "\n"]), max_size=60), st.integers(1, 8))
def test_shingles(tokens, n):
    sh = neardup.shingles(tokens, n)
    assert sh  # never empty: short inputs give one shingle
    if len(tokens) < n:
        assert sh == {" ".join(tokens).encode()}
    else:
        assert len(sh) <= len(tokens) - n + 1
        assert all(len(s.decode().split(" ")) == n for s in sh)
        grams = {" ".join(tokens[i : i + n]).encode() for i in range(len(tokens) - n + 1)}
        assert sh == grams


# -- signatures ---------------------------------------------------------------------------


def test_hashvalues_of_blobs_matches_datasketch():
    blobs = [neardup.signature(s) for _, _, s in SOURCES[:10]]
    hv, bad = neardup.hashvalues_of_blobs([*blobs, None, b"junk"])
    assert bad == [10, 11]
    assert hv.shape == (12, neardup.NUM_PERM) and hv.dtype == np.uint32
    for i, b in enumerate(blobs):
        assert np.array_equal(hv[i], LeanMinHash.deserialize(b).hashvalues)
    # Estimated Jaccard from the matrix is datasketch's jaccard().
    a, b = LeanMinHash.deserialize(blobs[0]), LeanMinHash.deserialize(blobs[1])
    assert neardup.estimated_jaccard(hv[0], hv[1]) == pytest.approx(a.jaccard(b))


def test_near_duplicate_pairs_confirmed_by_jaccard():
    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**32, size=(30, neardup.NUM_PERM), dtype=np.uint32)
    near = base[:10].copy()
    near[:, :6] = rng.integers(0, 2**32, size=(10, 6), dtype=np.uint32)  # Jaccard ~ 122/128 = 0.95
    far = base[10:20].copy()
    far[:, :70] = rng.integers(0, 2**32, size=(10, 70), dtype=np.uint32)  # ~ 0.45
    hv = np.vstack([base, near, far])
    pairs = {(i, j) for i, j, s in neardup.near_duplicate_pairs(hv, 0.8)}
    assert pairs == {(i, 30 + i) for i in range(10)}
    for _, _, s in neardup.near_duplicate_pairs(hv, 0.8):
        assert s >= 0.8


def test_cluster_exact_and_near_and_representatives():
    hv = np.arange(5 * neardup.NUM_PERM, dtype=np.uint32).reshape(5, neardup.NUM_PERM)
    hv[1] = hv[0]  # identical signature
    hv[2] = hv[0]
    hv[2, :5] += 7  # near (123/128)
    skel = ["a", "a", "c", "d", "d"]  # 3 and 4: equal skeletons
    ids = ["k3", "k1", "k2", "k9", "k0"]
    c = neardup.cluster(ids, hv, skel, 0.8)
    rep = dict(zip(c.ids, c.representative, strict=True))
    assert rep == {"k3": "k1", "k1": "k1", "k2": "k1", "k9": "k0", "k0": "k0"}
    assert (c.kernels, c.clusters, c.removed) == (5, 2, 3)
    sim = dict(zip(c.ids, c.similarity, strict=True))
    assert sim["k1"] == 1.0 and sim["k3"] == 1.0 and sim["k2"] == pytest.approx(123 / 128)
    # An accepted kernel represents its cluster; a rejected one only if nothing else can.
    c = neardup.cluster(ids, hv, skel, 0.8, priority=[1, 2, 0, 1, 2])
    rep = dict(zip(c.ids, c.representative, strict=True))
    assert rep["k3"] == rep["k1"] == "k2"
    assert rep["k0"] == "k9"


def test_cluster_rejects_bad_input():
    hv = np.zeros((2, neardup.NUM_PERM), dtype=np.uint32)
    with pytest.raises(ValueError):
        neardup.cluster(["a"], hv, ["x", "y"])
    with pytest.raises(ValueError):
        neardup.cluster(["a", "b"], hv, ["x", "y"], threshold=0)


# -- stored clusters ----------------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "d.db", create=True)
    recs = [make_record(n, c, src) for n, c, src in SOURCES[:20]]
    n, c, src = SOURCES[0]
    recs.append(make_record(n + "_clone", c, rewrite(src, random.Random(1))))
    s.write_batch(recs, [], None)
    yield s
    s.close()


def test_compute_save_and_fingerprint(store):
    run = neardup.compute_clusters(store, 0.8)
    assert run.clusters.kernels == 21 and run.clusters.clusters == 20
    state = neardup.save_clusters(store, run)
    assert state["kernels"] == 21 and state["clusters"] == 20 and state["num_perm"] == 128
    assert neardup.is_current(store.dedup_state(), store.dedup_fingerprint(), 0.8)
    assert not neardup.is_current(store.dedup_state(), store.dedup_fingerprint(), 0.9)
    rows = store.conn.execute("SELECT COUNT(*), COUNT(DISTINCT representative) FROM dedup_clusters").fetchone()
    assert rows == (21, 20)
    fp = store.dedup_fingerprint()
    # Accepting a kernel changes which one represents its cluster: the fingerprint moves.
    clone_id = make_record("x", "arithmetic", rewrite(SOURCES[0][2], random.Random(1))).id
    store.set_review(clone_id, "accepted")
    assert store.dedup_fingerprint() != fp
    fp = store.dedup_fingerprint()
    store.write_batch([make_record(*SOURCES[30])], [], None)
    assert store.dedup_fingerprint() != fp
    assert not neardup.is_current(store.dedup_state(), store.dedup_fingerprint(), 0.8)
    run = neardup.compute_clusters(store, 0.8)
    rep = dict(zip(run.clusters.ids, run.clusters.representative, strict=True))
    assert rep[clone_id] == clone_id  # the accepted clone now represents the pair


def test_missing_signature_is_recomputed(store):
    store.conn.execute("UPDATE kernels SET minhash = NULL WHERE name = ?", (SOURCES[0][0],))
    run = neardup.compute_clusters(store, 0.8)
    assert run.recomputed == 1
    assert run.clusters.clusters == 20  # the clone still joins it


def test_dedup_command(store, tmp_path):
    db = str(store.path)
    res = CliRunner().invoke(main, ["dedup", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["recomputed"] and report["kernels"] == 21 and report["removed"] == 1
    assert sum(c["removed"] for c in report["categories"]) == 1
    res = CliRunner().invoke(main, ["dedup", "--db", db, "--json"])
    assert json.loads(res.output)["recomputed"] is False
    res = CliRunner().invoke(main, ["dedup", "--db", db, "--threshold", "0.9"])
    assert res.exit_code == 0 and "21 kernels in 20 clusters" in res.output
    res = CliRunner().invoke(main, ["dedup", "--db", db, "--threshold", "1.5"])
    assert res.exit_code == 2
    res = CliRunner().invoke(main, ["dedup", "--db", str(tmp_path / "none.db")])
    assert res.exit_code == 1 and "no curator store" in res.output


def test_dedup_force_recomputes_current_clusters(store):
    """Clusters damaged behind curator's back while the store's fingerprint stands still: a
    plain rerun trusts them (current), --force recomputes them from the kernels."""
    db = str(store.path)
    assert CliRunner().invoke(main, ["dedup", "--db", db]).exit_code == 0
    good = dict(store.conn.execute("SELECT kernel_id, representative FROM dedup_clusters"))
    victim = next(k for k, r in good.items() if k == r)
    store.conn.execute("UPDATE dedup_clusters SET representative = 'bogus' WHERE kernel_id = ?", (victim,))
    store.conn.commit()
    res = CliRunner().invoke(main, ["dedup", "--db", db, "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["recomputed"] is False
    assert dict(store.conn.execute("SELECT kernel_id, representative FROM dedup_clusters"))[victim] == "bogus"
    res = CliRunner().invoke(main, ["dedup", "--db", db, "--json", "--force"])
    assert res.exit_code == 0 and json.loads(res.output)["recomputed"] is True
    assert dict(store.conn.execute("SELECT kernel_id, representative FROM dedup_clusters")) == good


def test_dedup_of_an_empty_store(tmp_path):
    db = tmp_path / "e.db"
    Store.open(db, create=True).close()
    res = CliRunner().invoke(main, ["dedup", "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert (report["kernels"], report["clusters"], report["removed"], report["categories"]) == (0, 0, 0, [])
    with Store.open(db, readonly=True) as s:
        assert s.conn.execute("SELECT COUNT(*) FROM dedup_clusters").fetchone()[0] == 0
        assert s.dedup_state()["kernels"] == 0
