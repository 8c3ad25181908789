"""CPU execution (`curator verify --execute`) with planted faults: each is caught, recorded for the
right kernel, and the run goes on (real Warp, small kernels, no GPU)."""

from __future__ import annotations

import json
import tempfile
import textwrap

import pytest
from click.testing import CliRunner

from curator import neardup
from curator.cli import main
from curator.records import kernel_id
from curator.store import KernelRecord, Store
from curator.verify import executions as execution
from curator.warp import build, init_warp

SOURCES = {
    # float input x (read only) and float output y: differentiable, smooth
    "good": """
        @wp.kernel
        def good(x: wp.array(dtype=float), y: wp.array(dtype=wp.vec3), s: float):
            i = wp.tid()
            y[i] = wp.vec3(wp.sin(x[i]) * s, x[i] * x[i], wp.exp(x[i] * 0.5))
    """,
    # an integer divided by zero: SIGFPE in the worker
    "divzero": """
        @wp.kernel
        def divzero(a: wp.array(dtype=int), n: int):
            i = wp.tid()
            a[i] = a[i] / (n - n)
    """,
    # never ends (n is drawn from small non-negative integers)
    "forever": """
        @wp.kernel
        def forever(a: wp.array(dtype=int), n: int):
            i = wp.tid()
            j = int(0)
            while n >= 0:
                j = j + 1
            a[i] = j
    """,
    # a custom adjoint that is wrong (3x instead of 2x): the adjoint check must fail it
    "wronggrad": """
        @wp.func
        def square(v: float):
            return v * v

        @wp.func_grad(square)
        def adj_square(v: float, adj_ret: float):
            wp.adjoint[v] += 3.0 * v * adj_ret

        @wp.kernel
        def wronggrad(x: wp.array(dtype=float), y: wp.array(dtype=float)):
            i = wp.tid()
            y[i] = square(x[i])
    """,
    # NaN outputs are flagged
    "nan": """
        @wp.kernel
        def nan(x: wp.array(dtype=float), y: wp.array(dtype=float)):
            i = wp.tid()
            y[i] = wp.log(-1.0 - x[i] * x[i])
    """,
    # a volume handle: a small NanoVDB volume is built for it on the CPU
    "volume": """
        @wp.kernel
        def volume(vol: wp.uint64, y: wp.array(dtype=float)):
            i = wp.tid()
            y[i] = wp.volume_sample_f(vol, wp.vec3(0.0), wp.Volume.LINEAR)
    """,
    # a parameter type no input is built for (a fabric array of arrays): not-runnable, with the reason
    "nested": """
        @wp.kernel
        def nested(a: wp.fabricarrayarray(dtype=float), y: wp.array(dtype=float)):
            i = wp.tid()
            y[i] = a[i][0]
    """,
}
ARGS = {
    "good": [["x", "wp.array(dtype=float)"], ["y", "wp.array(dtype=wp.vec3)"], ["s", "float"]],
    "divzero": [["a", "wp.array(dtype=int)"], ["n", "int"]],
    "forever": [["a", "wp.array(dtype=int)"], ["n", "int"]],
    "wronggrad": [["x", "wp.array(dtype=float)"], ["y", "wp.array(dtype=float)"]],
    "nan": [["x", "wp.array(dtype=float)"], ["y", "wp.array(dtype=float)"]],
    "volume": [["vol", "wp.uint64"], ["y", "wp.array(dtype=float)"]],
    "nested": [["a", "wp.fabricarrayarray(dtype=float)"], ["y", "wp.array(dtype=float)"]],
}


def _source(name: str) -> str:
    return "import warp as wp\n\n" + textwrap.dedent(SOURCES[name]).lstrip()


@pytest.fixture(scope="module")
def artifacts():
    init_warp()
    return {n: {d: a.pieces for d, a in build.generate(_source(n), n, f"curator_xt_{n}").items()} for n in SOURCES}


def _store(
    path, artifacts, names, swap_backward: tuple[str, str] | None = None, broken: dict | None = None
) -> tuple[Store, dict[str, str]]:
    store = Store.open(path, create=True)
    ids, recs = {}, []
    for name in names:
        source, pieces = _source(name), artifacts[name]
        if broken and name in broken:  # the stored code of one device edited not to compile
            device = broken[name]
            bad = pieces[device]["forward"].replace("{\n", "{\n    not_cpp_at_all;\n", 1)
            pieces = pieces | {device: pieces[device] | {"forward": bad}}
        if swap_backward and name == swap_backward[0]:  # the stored backward is another kernel's
            other = artifacts[swap_backward[1]]
            pieces = {d: p | {"backward": other[d]["backward"]} for d, p in pieces.items()}
        tokens = neardup.normalize_tokens(source)
        ids[name] = kernel_id(source)
        recs.append(
            KernelRecord(
                id=ids[name],
                name=name,
                category="planted",
                source=source,
                origin="real",
                skeleton_hash=neardup.skeleton_hash_of_tokens(tokens),
                minhash=neardup.signature_of_tokens(tokens),
                artifacts={d: {"pieces": p, "codegen_ms": 1.0, "warp_version": "1.19.0"} for d, p in pieces.items()},
                launch_dim=1,
                kernel_args=ARGS[name],
            )
        )
    store.write_batch(recs, [], None)
    return store, ids


def _latest(store: Store, kid: str) -> dict:
    return store.kernel_executions(kid)[-1]


@pytest.mark.slow
def test_planted_faults_are_recorded_for_their_kernel_and_the_run_goes_on(tmp_path, artifacts, monkeypatch):
    names = ("divzero", "good", "forever", "wronggrad", "nan", "volume", "nested")
    store, ids = _store(tmp_path / "x.db", artifacts, names)
    temp = tmp_path / "tmp"  # where the workers' folders go (each holds a Warp kernel cache)
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))  # and the workers' own, were they to make folders themselves
    with store:
        report = execution.run(store, list(ids.values()), workers=1, seed=3, timeout=20, trust_real=True)
        runs = {n: _latest(store, ids[n]) for n in names}
    assert runs["divzero"]["status"] == "crashed" and "SIGFPE" in runs["divzero"]["message"]
    assert runs["forever"]["status"] == "timeout"
    # the crashed and the hung worker were killed (they cannot clean up): their folders are gone too
    assert list(temp.iterdir()) == []
    assert runs["volume"]["status"] == "ran" and runs["volume"]["pair_ok"] == 1
    assert runs["nested"]["status"] == "not-runnable" and "fabric" in runs["nested"]["message"]
    good = runs["good"]
    assert good["status"] == "ran" and good["pair_ok"] == 1 and good["repeatable"] == 1 and good["nonfinite"] == 0
    assert good["grad"] == "pass" and good["grad_error"] < 2e-2 and len(good["checksum"]) == 32
    assert runs["wronggrad"]["status"] == "ran" and runs["wronggrad"]["grad"] == "fail", runs["wronggrad"]
    assert runs["wronggrad"]["grad_error"] > 0.1  # 3x against 2x: a third off
    assert runs["nan"]["status"] == "ran" and runs["nan"]["nonfinite"] == 1
    # every kernel has exactly one result, and the report counts what the store holds
    assert sum(report.counts.values()) == len(names)
    assert report.counts == {s: sum(r["status"] == s for r in runs.values()) for s in report.counts}


@pytest.mark.slow
def test_swapped_backward_fails_the_pair_check_and_the_export_leaves_it_out(tmp_path, artifacts):
    store, ids = _store(tmp_path / "s.db", artifacts, ("good", "nan"), swap_backward=("good", "nan"))
    store.close()
    res = CliRunner().invoke(
        main,
        [
            "verify",
            "--db",
            str(tmp_path / "s.db"),
            "--execute",
            "--no-compile",
            "--trust",
            "--workers",
            "1",
            "--seed",
            "5",
        ],
    )
    assert res.exit_code == 1, res.output
    with Store.open(tmp_path / "s.db", readonly=True) as s:
        swapped, intact = _latest(s, ids["good"]), _latest(s, ids["nan"])
        assert swapped["status"] == "failed" and swapped["pair_ok"] == 0 and "pair check" in swapped["message"]
        assert intact["status"] == "ran" and intact["pair_ok"] == 1
        assert s.ran_ids("cpu") == {ids["nan"]}
        # the run compiled the intact kernel's CPU code through Warp's JIT: recorded as a compile
        compiles = {(k, v["mode"], v["ok"]) for k in ids.values() for v in s.kernel_verifications(k)}
        assert compiles == {(ids["nan"], "run", 1)}
    res = CliRunner().invoke(main, ["verify", "--db", str(tmp_path / "s.db"), "--failures"])
    assert ids["good"] in res.output and ids["nan"] not in res.output

    # export --verified-only: the swapped kernel is left out; a record's check fields say what the store says
    out = tmp_path / "out"
    args = ["--source", "real", "--verified-only", "--allow-short", "--target-mb", "1"]
    res = CliRunner().invoke(
        main, ["export", "--db", str(tmp_path / "s.db"), "--out", str(out), "--device", "cpu", *args]
    )
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in (out / "cpu" / "warp_kernels_cpu.jsonl").read_text().splitlines()]
    assert [r["id"] for r in lines] == [ids["nan"]]
    with Store.open(tmp_path / "s.db", readonly=True) as s:
        run = _latest(s, ids["nan"])
    assert (lines[0]["compiled"], lines[0]["ran"], lines[0]["grad_check"]) == (True, run["status"], run["grad"])
    checks = json.loads((out / "manifest.json").read_text())["devices"]["cpu"]["checks"]
    assert checks["records"] == 1 and checks["compiled_true"] == 1 and checks["kernel_ran_on_cpu"] == 1


def test_same_seed_same_checksum_other_seed_other_inputs(artifacts):
    """In-process: the inputs and so the checksum are a function of the seed."""
    from curator.warp.execute import execute

    init_warp()
    source = _source("good")
    row = {
        "id": kernel_id(source),
        "name": "good",
        "source": source,
        "kernel_args": __import__("json").dumps(ARGS["good"]),
        "launch_dim": 1,
    }
    first = execute(row, artifacts["good"]["cpu"], seed=1, grad=False)
    again = execute(row, artifacts["good"]["cpu"], seed=1, grad=False)
    other = execute(row, artifacts["good"]["cpu"], seed=2, grad=False)
    assert first.checksum == again.checksum and first.repeatable
    assert other.checksum != first.checksum


@pytest.mark.slow
def test_fast_mode_records_mode_and_attributes_a_broken_piece(tmp_path, artifacts):
    """A stored CPU piece and a stored CUDA piece edited not to compile: each failure is the
    right kernel's, for the right device, under the recorded mode."""
    store, ids = _store(
        tmp_path / "c.db", artifacts, ("good", "nan", "wronggrad"), broken={"nan": "cpu", "wronggrad": "cuda"}
    )
    store.close()
    res = CliRunner().invoke(main, ["verify", "--db", str(tmp_path / "c.db"), "--mode", "fast", "--workers", "1"])
    assert res.exit_code == 1, res.output
    with Store.open(tmp_path / "c.db", readonly=True) as s:
        rows = {(r["kernel_id"], r["device"]): r for r in s.verification_failures(limit=50)}
        assert set(rows) == {(ids["nan"], "cpu"), (ids["wronggrad"], "cuda")}
        assert all("not_cpp_at_all" in r["diagnostics"] and r["mode"] == "fast" for r in rows.values())
        assert s.verified_ids("cpu") == {ids["good"], ids["wronggrad"]}


def test_a_generic_kernels_pair_is_one_of_the_overloads_warp_compiles():
    """Warp compiles every overload of a generic kernel's module at launch; the stored pair (one
    overload) passes the pair check when each of its blocks is in that module verbatim, and
    fails when one is not (the stored backward edited)."""
    from curator.warp.execute import execute

    source = textwrap.dedent("""
        import warp as wp
        from typing import Any

        @wp.kernel
        def scale(x: wp.array(dtype=Any), s: Any):
            i = wp.tid()
            x[i] = x[i] * s

        scale_f32 = wp.overload(scale, [wp.array(dtype=wp.float32), wp.float32])
        scale_f64 = wp.overload(scale, [wp.array(dtype=wp.float64), wp.float64])
    """).lstrip()
    init_warp()
    stored = build.generate(source, "scale_f32", "curator_overload_stored", devices=("cpu",))["cpu"].pieces
    row = {"id": kernel_id(source), "name": "scale_f32", "source": source, "kernel_args": None, "launch_dim": 1}
    ran = execute(row, stored, seed=1, grad=False)
    assert (ran.status, ran.pair_ok) == ("ran", True), ran.message
    edited = dict(stored, backward=stored["backward"].replace("adj_", "adj_x_", 1))
    assert edited != stored
    broken = execute(row, edited, seed=1, grad=False)
    assert broken.status == "failed" and broken.message.startswith("pair check:")


SAME_NAME = """
import gc, sys
import warp as wp
wp.config.kernel_cache_dir = sys.argv[1]
from warp._src import context
from curator.warp import init_warp
from curator.warp.build import load_module, release_module

init_warp()
SRC = ("import warp as wp\\n\\n@wp.kernel\\ndef twice(a: wp.array(dtype=float)):\\n"
       "    i = wp.tid()\\n    a[i] = a[i] * 2.0\\n")
first = load_module(SRC, "curator_same_name")
a = wp.ones(4, dtype=float, device="cpu")
wp.launch(first.twice, dim=4, inputs=[a], device="cpu")
held = list(context.user_modules["curator_same_name"].execs.values())  # a late garbage collection
release_module("curator_same_name")
second = load_module(SRC, "curator_same_name")
b = wp.ones(4, dtype=float, device="cpu")
wp.launch(second.twice, dim=4, inputs=[b], device="cpu")
del held
gc.collect()  # the first load's executable goes now, while the second's is in use
wp.launch(second.twice, dim=4, inputs=[b], device="cpu")
wp.synchronize_device("cpu")
print(b.numpy().tolist())
"""


def test_a_module_loaded_again_under_its_name_survives_the_first_loads_late_unload(tmp_path):
    """A kernel run twice in one process (the same module name) used to reuse Warp's name for the
    loaded code; the first load's executable, collected late, then unloaded the second's and the
    next launch segfaulted (it did in this file's in-process test, depending on GC timing)."""
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-c", SAME_NAME, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().splitlines()[-1] == "[4.0, 4.0, 4.0, 4.0]"
