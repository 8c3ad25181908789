"""The balanced selector: equal counts per category (differing by at most one), the size in
[target, upper] when the store can fill it, stream order kept, and a clean stop when short."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from curator.export.select import MAX_BALANCE_RATIO, Selection, seeded_order, select_balanced, upper_bound

sizes = st.integers(min_value=200, max_value=3000)
category_sizes = st.dictionaries(
    st.sampled_from([f"cat{i}" for i in range(12)]), st.lists(sizes, min_size=1, max_size=120), min_size=1
)


def run(streams: dict[str, list[int]], target: int) -> tuple[Selection, list[tuple[str, int]]]:
    sel = Selection((), target, upper_bound(target))
    picked = list(
        select_balanced({c: list(enumerate(v)) for c, v in streams.items()}, lambda x: x[1], target, selection=sel)
    )
    return sel, [(c, i) for c, (i, _) in picked]


def check_invariants(streams, target, sel, picked):
    counts = [sel.counts[c] for c in streams]
    assert max(counts) - min(counts) <= 1
    assert sel.size == sum(streams[c][i] for c, i in picked)
    assert sel.records == len(picked)
    # Each category's items are taken in stream order (skipped ones passed over for good).
    for c in streams:
        idx = [i for cc, i in picked if cc == c]
        assert idx == sorted(idx)
    assert sel.size <= sel.upper
    if sel.reached:
        assert target <= sel.size <= upper_bound(target) <= target * 1.01
        if min(counts) >= 20:
            assert sel.ratio() <= MAX_BALANCE_RATIO
    else:
        assert sel.exhausted in streams


@settings(max_examples=150, deadline=None)
@given(category_sizes, st.floats(0.05, 1.5))
def test_balanced_selection_invariants(streams, share):
    total = sum(sum(v) for v in streams.values())
    target = max(1, int(total * share))
    sel, picked = run(streams, target)
    check_invariants(streams, target, sel, picked)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 20), st.integers(25, 80), st.integers(0, 2**32))
def test_fills_target_with_balance_when_enough(n_cats, per_cat, seed):
    # Plenty of kernels of varied sizes per category; the target needs about per_cat of each.
    rnd = random.Random(seed)
    streams = {f"c{i}": [rnd.randint(300, 2500) for _ in range(per_cat * 3)] for i in range(n_cats)}
    target = sum(sum(v[:per_cat]) for v in streams.values())
    sel, picked = run(streams, target)
    assert sel.reached, (sel.size, target)
    check_invariants(streams, target, sel, picked)
    assert min(sel.counts.values()) >= 20  # so a round-robin's +1 keeps the ratio within 1.05
    assert sel.ratio() <= MAX_BALANCE_RATIO


def test_stops_balanced_when_a_category_runs_out():
    streams = {"a": [100] * 50, "b": [100] * 3, "c": [100] * 50}
    sel, picked = run(streams, 10_000)
    assert not sel.reached and sel.exhausted == "b"
    assert sel.counts == {"a": 4, "b": 3, "c": 4}  # the round is finished without b
    check_invariants(streams, 10_000, sel, picked)


def test_passes_over_lines_that_would_overshoot():
    streams = {"a": [1000, 5000, 1000, 1000], "b": [1000, 1000, 1000]}
    sel, picked = run(streams, 3000)
    assert (sel.size, sel.skipped, picked) == (3000, 1, [("a", 0), ("b", 0), ("a", 2)])
    streams = {"a": [1000, 2000, 500], "b": [1000, 1000]}
    sel, picked = run(streams, 2500)
    assert (sel.size, sel.skipped, sel.counts) == (2500, 1, {"a": 2, "b": 1})


def test_seeded_order():
    ids = [f"k{i:03d}" for i in range(200)]
    assert seeded_order(ids, 1) == seeded_order(list(reversed(ids)), 1)
    assert seeded_order(ids, 1) != seeded_order(ids, 2)
    assert sorted(seeded_order(ids, 3)) == ids
