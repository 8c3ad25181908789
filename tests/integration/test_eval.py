"""`curator eval score` on a release of a few kernels: planted predictions each caught and
attributed (wrong code, a hang, crashes and a trap, a 10 GiB allocation, file access, no compile, a flood of
output), the run completes, a rerun skips finished work, and the release and store stay
byte-identical; the reference baseline scores every informative record, also for the backward."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_curator

pytestmark = pytest.mark.slow


def _digest(paths: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def release(small_store, tmp_path_factory) -> tuple[Path, Path]:
    """(a release of three categories cut from a copy of the small store, that store)."""
    root = tmp_path_factory.mktemp("eval")
    db = root / "store.db"
    shutil.copy(small_store, db)
    out = root / "release"
    res = run_curator(
        *("export", "--db", str(db), "--out", str(out), "--target-mb", "0.05", "--allow-short"),
        *("--splits", "train=0.5,validation=0.1,test=0.4"),
        *("--category", "arithmetic", "--category", "math", "--category", "control_flow"),
    )
    assert res.returncode == 0, res.stderr
    return out, db


def _files(release: Path, db: Path) -> list[Path]:
    return [*sorted(p for p in release.rglob("*") if p.is_file()), db]


def _inject(code: str, stmt: str) -> str:
    at = code.index("\n{\n") + 3
    return code[:at] + stmt + code[at:]


def _plants(forward: str) -> dict[str, tuple[str, str]]:
    """name -> (prediction, the status it must get)."""
    flipped = forward[::-1].replace("(dda::pw =", "(bus::pw =", 1)[::-1]  # the last wp::add
    return {
        "reference": (forward, "correct"),
        "flipped operator": (flipped, "wrong"),
        "wrong index": (
            re.sub(r"wp::array_store\((var_\w+), (var_\w+), ", r"wp::array_store(\1, \2 + 1, ", forward, count=1),
            "wrong",
        ),
        "missing store": (re.sub(r"\n[ \t]*wp::array_store\([^\n]*\);", "", forward, count=1), "wrong"),
        "infinite loop": (_inject(forward, "    volatile int spin = 1;\n    while (spin) {}\n"), "timeout"),
        "segfault": (_inject(forward, "    *(volatile int*)8 = 1;\n"), "crashed"),
        "abort": (_inject(forward, "    __builtin_abort();\n"), "crashed"),
        "integer trap": (_inject(forward, "    volatile int zero = 0;\n    volatile int q = 1 / zero;\n"), "crashed"),
        "10 GiB": (
            _inject(
                forward,
                "    volatile char* big = (volatile char*)malloc(10ull << 30);\n"
                "    for (unsigned long long k = 0; k < (10ull << 30); k += 4096) big[k] = 1;\n",
            ),
            "memory-limit",
        ),
        "reads a file": (_inject(forward, '    FILE* fh = fopen("../../store.db", "r");\n'), "rejected"),
        "writes outside": (
            'extern "C" int creat(const char*, int);\n' + _inject(forward, '    creat("/tmp/x", 0644);\n'),
            "rejected",
        ),
        "does not compile": (_inject(forward, "    this is not C++;\n"), "compile-error"),
        "floods output": (
            _inject(
                forward,
                '    for (int k = 0; k < 100000000; ++k) printf("%s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\\n");\n',
            ),
            "output-limit",
        ),
    }


def test_planted_predictions_are_caught_and_attributed(release, tmp_path):
    rel, db = release
    lines = (rel / "cpu" / "warp_kernels_cpu_test.jsonl").read_text().splitlines()
    record = next(
        r for r in map(json.loads, lines) if "wp::add(" in r["forward"] and "wp::array_store(" in r["forward"]
    )
    plants = _plants(record["forward"])
    assert all(code != record["forward"] for name, (code, _) in plants.items() if name != "reference")
    preds = tmp_path / "preds.jsonl"
    preds.write_text(
        "".join(
            json.dumps({"id": record["id"], "sample": i, "forward": c}) + "\n"
            for i, (c, _) in enumerate(plants.values())
        )
    )
    before = _digest(_files(rel, db))
    results = tmp_path / "results.jsonl"
    args = ("eval", "score", "--release", str(rel), "--predictions", str(preds), "--results", str(results))
    res = run_curator(*args, "--cpu-seconds", "4", "--memory-gib", "1", "--output-mib", "16", "--json")
    assert res.returncode == 0, res.stderr
    rows = {r["sample"]: r for r in map(json.loads, results.read_text().splitlines()) if r["kind"] == "result"}
    got = {name: rows[i]["status"] for i, name in enumerate(plants)}
    assert got == {name: want for name, (_, want) in plants.items()}
    diag = {name: rows[i]["diagnostic"] for i, name in enumerate(plants)}
    assert "SIGSEGV" in diag["segfault"] and "SIGABRT" in diag["abort"] and "SIGFPE" in diag["integer trap"]
    assert "SIGXCPU" in diag["infinite loop"] and "SIGXFSZ" in diag["floods output"]
    assert "fopen" in diag["reads a file"] and "extern" in diag["writes outside"]
    assert "array result" in diag["wrong index"] or "array" in diag["flipped operator"]
    summary = json.loads(res.stdout)
    assert summary["overall"]["pass@1"] > 0  # the record is informative and its reference sample passes
    assert _digest(_files(rel, db)) == before  # nothing in the release or the store changed
    # a rerun with the same predictions and results file scores nothing again
    size = results.stat().st_size
    again = run_curator(*args, "--json")
    assert again.returncode == 0, again.stderr
    assert results.stat().st_size == size
    assert json.loads(again.stdout)["overall"] == summary["overall"]


def test_reference_baseline_scores_every_informative_record_forward_and_backward(release, tmp_path):
    rel, db = release
    before = _digest(_files(rel, db))
    for target in ("forward", "backward"):
        res = run_curator(
            "eval", "score", "--release", str(rel), "--baseline", "reference", "--target", target, "--json"
        )
        assert res.returncode == 0, res.stderr
        summary = json.loads(res.stdout)
        assert summary["overall"]["records"] >= 1, summary
        assert summary["overall"]["pass@1"] == 1.0, summary
    assert _digest(_files(rel, db)) == before


def test_cuda_predictions_compile_but_do_not_run_without_a_gpu(release):
    from curator.warp.launch import cuda_available

    if cuda_available():
        pytest.skip("a GPU is here: CUDA predictions run (bench/bench_gpu.py checks that)")
    rel, _ = release
    res = run_curator("eval", "score", "--release", str(rel), "--config", "cuda", "--baseline", "reference", "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert set(summary["statuses"]) == {"compiled-not-run"}
    assert summary["overall"]["compile@1"] == 1.0


def test_prompts_and_bad_predictions(release, tmp_path):
    rel, _ = release
    out = tmp_path / "prompts.jsonl"
    res = run_curator("eval", "prompts", "--release", str(rel), "--out", str(out), "--context")
    assert res.returncode == 0, res.stderr
    prompts = [json.loads(line) for line in out.read_text().splitlines()]
    records = [json.loads(line) for line in (rel / "cpu" / "warp_kernels_cpu_test.jsonl").read_text().splitlines()]
    assert [p["id"] for p in prompts] == [r["id"] for r in records]
    assert all("forward" not in p["context"] and p["target"] == ["forward"] for p in prompts)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": prompts[0]["id"], "forward": ""}) + "\n" + '{"id": "nope", "forward": ""}\n')
    res = run_curator("eval", "score", "--release", str(rel), "--predictions", str(bad))
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        f"Error: {bad}:2: unknown id 'nope' (not a task of this config and split)"
    ]


def test_a_failed_compile_keeps_the_precompiled_header_when_asked(tmp_path):
    import os

    from curator.records import PIECES
    from curator.warp.build import module_source
    from curator.warp.compile import DRIVER_FLAGS, Compiler

    empty = module_source("cpu", dict.fromkeys(PIECES, ""))
    broken = empty + "this is not C++;\n"
    plain, kept = (Compiler("cpu", mode="fast", workdir=str(tmp_path), extra_flags=DRIVER_FLAGS) for _ in range(2))
    try:
        for c in (plain, kept):
            assert c.compile(empty).ok and os.listdir(c._pch)
        kept.keep_precompiled_header()
        assert not plain.compile(broken).ok and not kept.compile(broken).ok
        assert os.listdir(plain._pch) == []  # Warp's Clang removed it (the fault the copy undoes)
        assert os.listdir(kept._pch) != []
        assert kept.compile(empty).ok
    finally:
        plain.close()
        kept.close()
