"""curator verify with Warp's real compilers (Clang for CPU, NVRTC for CUDA; no GPU needed)."""

from __future__ import annotations

import functools
import importlib
import json
import os
import textwrap

import pytest
from click.testing import CliRunner

from curator import neardup, records, verify
from curator.cli import main
from curator.records import kernel_id
from curator.store import KernelRecord, Store
from curator.verify import compile as verify_compile
from curator.verify import differential
from curator.warp import build, init_warp, launch
from curator.warp import compile as warp_compile
from tests.integration import compiler_faults

# Two kernels whose @wp.func are both numbered helper_0 (with different bodies) and which share
# a struct: concatenated naively into one translation unit they would clash.
SOURCES = {
    "k_a": """
        import warp as wp

        @wp.struct
        class Params:
            scale: float
            offset: wp.vec3

        @wp.func
        def helper(a: float, b: float) -> float:
            return wp.sin(a) * b

        @wp.kernel
        def k_a(x: wp.array(dtype=float), y: wp.array(dtype=wp.vec3), p: Params):
            i = wp.tid()
            y[i] = y[i] * helper(x[i], p.scale) + p.offset
    """,
    "k_b": """
        import warp as wp

        @wp.struct
        class Params:
            scale: float
            offset: wp.vec3

        @wp.func
        def helper(a: float, b: float) -> float:
            return wp.cos(a) + b

        @wp.kernel
        def k_b(x: wp.array2d(dtype=float), p: Params, n: int):
            i, j = wp.tid()
            acc = float(0.0)
            for k in range(n):
                acc += helper(x[i, j], p.scale) * float(k)
            x[i, j] = acc
    """,
    "k_c": """
        import warp as wp

        @wp.kernel
        def k_c(q: wp.array(dtype=wp.quat), out: wp.array(dtype=wp.vec3), s: wp.float64):
            tid = wp.tid()
            out[tid] = wp.quat_rotate(q[tid], wp.vec3(1.0, 2.0, 3.0)) * float(s)
    """,
}
ARGS = {
    "k_a": [["x", "wp.array(dtype=float)"], ["y", "wp.array(dtype=wp.vec3)"], ["p", "Params"]],
    "k_b": [["x", "wp.array2d(dtype=float)"], ["p", "Params"], ["n", "int"]],
    "k_c": [["q", "wp.array(dtype=wp.quat)"], ["out", "wp.array(dtype=wp.vec3)"], ["s", "wp.float64"]],
}
DIMS = {"k_a": 1, "k_b": 2, "k_c": 1}
BROKEN_LINE = "    this_is_not_valid_cpp;\n"


def _source(name: str) -> str:
    return textwrap.dedent(SOURCES[name]).lstrip()


@pytest.fixture(scope="module")
def artifacts():
    """name -> {device: pieces}, from real Warp codegen."""
    init_warp()
    return {n: {d: a.pieces for d, a in build.generate(_source(n), n, f"curator_vt_{n}").items()} for n in SOURCES}


def _broken(pieces: dict) -> dict:
    """Edit the generated text: a statement that is not C++ at the start of the forward body."""
    forward = pieces["forward"]
    at = forward.index("{\n") + 2
    return pieces | {"forward": forward[:at] + BROKEN_LINE + forward[at:]}


@pytest.fixture(scope="module")
def compilers():
    """One compiler per device for the module (the first call builds the precompiled header)."""
    made = {d: warp_compile.Compiler(d) for d in records.DEVICES}
    yield made
    for c in made.values():
        c.close()


@pytest.mark.parametrize("device", records.DEVICES)
def test_batch_compiles_in_one_call_and_bisects_to_the_broken_kernel(device, artifacts, compilers):
    items = [(n, artifacts[n][device]) for n in SOURCES]
    results, calls = verify.compile_batch(compilers[device], items)
    assert calls == 1
    assert [(r.kernel_id, r.ok) for r in results] == [("k_a", True), ("k_b", True), ("k_c", True)]

    items = [("k_a", artifacts["k_a"][device]), ("k_b", _broken(artifacts["k_b"][device]))]
    results, calls = verify.compile_batch(compilers[device], items)
    assert [(r.kernel_id, r.ok) for r in results] == [("k_a", True), ("k_b", False)]
    assert calls == 3  # the failing batch, then each half alone
    assert "this_is_not_valid_cpp" in results[1].diagnostics and "error" in results[1].diagnostics
    assert "this_is_not_valid_cpp" not in results[0].diagnostics


def test_the_driver_flags_of_cpu_runs_leave_the_object_code_as_it_is(artifacts, tmp_path):
    """CPU runs compile with Warp's flags plus the two the Clang driver adds (no IR verifier, no
    local value names): the object file is byte for byte the one Warp's flags give."""
    source, _ = warp_compile.batch_source("cpu", [artifacts[n]["cpu"] for n in SOURCES])
    objects = {}
    for extra in ((), warp_compile.DRIVER_FLAGS):
        compiler = warp_compile.Compiler("cpu", mode="fast", extra_flags=extra)
        try:
            out = tmp_path / f"{len(extra)}.o"
            assert compiler.compile(source, output=str(out)).ok
            objects[extra] = out.read_bytes()
            assert compiler.options.endswith(" ".join(extra))
        finally:
            compiler.close()
    assert len(objects) == 2 and len(objects[()]) > 1000
    assert objects[()] == objects[warp_compile.DRIVER_FLAGS]


def test_naive_concatenation_would_clash(artifacts, compilers):
    """Why batches wrap each kernel in a namespace: the same TU without them does not compile."""
    bodies = "".join("".join(artifacts[n]["cpu"][p] for p in records.PIECES) for n in ("k_a", "k_b"))
    naive = compilers["cpu"].compile("#define WP_NO_BFLOAT16\n" + build.module_header("cpu") + bodies)
    assert not naive.ok and "redefinition" in naive.diagnostics


# Real kernels of Warp's own package, generated as `curator ingest --package warp` does: a tile kernel
# whose tiles hold a struct (Warp emits the struct with its tile helpers, without them tile.h finds no
# `sub`) and Warp's nested custom adjoint test (custom adjoints come before the adjoints calling them).
WARP_KERNELS = {
    "tile_struct_value_ops_kernel": "warp.tests.tile.test_tile_struct",
    "test_nested_custom_grad_kernel": "warp.tests.test_grad_customs",
}


@functools.cache
def _warp_kernel_pieces(name: str) -> dict[str, dict]:
    kernel = getattr(importlib.import_module(WARP_KERNELS[name]), name)
    return {d: a.pieces for d, a in build.generate_for_kernel(kernel).items()}


@pytest.mark.slow
@pytest.mark.parametrize("device", records.DEVICES)
@pytest.mark.parametrize("name", sorted(WARP_KERNELS))
def test_warp_package_kernels_compile_for_each_device(name, device, compilers):
    result = compilers[device].compile(build.module_source(device, _warp_kernel_pieces(name)[device]))
    assert result.ok, result.diagnostics[-3000:]


def _make_store(path, artifacts, names=tuple(SOURCES)) -> tuple[Store, dict[str, str]]:
    store = Store.open(path, create=True)
    ids, records = {}, []
    for name in names:
        source = _source(name)
        pieces = artifacts[name]
        if name == "k_b":  # a deliberately broken artifact, for both devices
            pieces = {d: _broken(p) for d, p in pieces.items()}
        tokens = neardup.normalize_tokens(source)
        ids[name] = kernel_id(source)
        records.append(
            KernelRecord(
                id=ids[name],
                name=name,
                category="struct" if name != "k_c" else "quaternion",
                source=source,
                skeleton_hash=neardup.skeleton_hash_of_tokens(tokens),
                minhash=neardup.signature_of_tokens(tokens),
                artifacts={d: {"pieces": p, "codegen_ms": 1.0, "warp_version": "1.19.0"} for d, p in pieces.items()},
                launch_dim=DIMS[name],
                kernel_args=ARGS[name],
            )
        )
    store.write_batch(records, [], None)
    return store, ids


@pytest.mark.slow
def test_cli_records_failure_with_diagnostic_and_rerun_skips(tmp_path, artifacts, monkeypatch):
    db = tmp_path / "v.db"
    store, ids = _make_store(db, artifacts, names=("k_a", "k_b"))
    store.close()
    temp = tmp_path / "tmp"  # the compiler workers' folders (precompiled headers, objects) go here
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    runner = CliRunner()
    res = runner.invoke(main, ["verify", "--db", str(db), "--workers", "1"])
    assert res.exit_code == 1, res.output
    assert list(temp.iterdir()) == []  # a pool worker ends with os._exit: its compilers removed them first
    assert ids["k_b"] in res.output and "this_is_not_valid_cpp" in res.output  # shown
    assert ", mode fast)" in res.output  # which option set it failed under
    with Store.open(db, readonly=True) as s:
        rows = s.conn.execute("SELECT kernel_id, device, ok, diagnostics, compiler, ms FROM verifications").fetchall()
        assert len(rows) == 4
        for kid, device, ok, diag, compiler, ms in rows:
            assert ok == (kid != ids["k_b"])
            assert compiler.startswith("clang" if device == "cpu" else "nvrtc") and ms > 0
            if not ok:
                assert "this_is_not_valid_cpp" in diag  # stored
        assert s.verified_ids("cpu") == s.verified_ids("cuda") == {ids["k_a"]}
        stats = {(r["device"], r["category"]): r for r in s.verification_stats()}
        assert stats[("cpu", "struct")] | {"device": None} == {
            "device": None,
            "category": "struct",
            "kernels": 2,
            "verified": 2,
            "passed": 1,
            "failed": 1,
            "pass_rate": 0.5,
        }
        (run,) = s.runs("verify")
        assert run["status"] == "done"

    # a rerun compiles nothing (same compiler and options); --run says there is no GPU and skips
    res = runner.invoke(main, ["verify", "--db", str(db), "--workers", "1", "--run"])
    assert res.exit_code == 0, res.output
    with Store.open(db, readonly=True) as s:
        assert s.conn.execute("SELECT COUNT(*) FROM verifications WHERE compiler NOT LIKE 'launch%'").fetchone()[0] == 4
        counts = json.loads(s.runs("verify")[-1]["counts"])
        assert all(c["done"] == 0 and c["skipped"] == 2 for c in counts["devices"].values())
        if not launch.cuda_available():
            assert s.conn.execute("SELECT COUNT(*) FROM verifications WHERE compiler LIKE 'launch%'").fetchone()[0] == 0

    res = runner.invoke(main, ["verify", "--db", str(db), "--failures", "--device", "cuda"])
    assert res.exit_code == 0 and ids["k_b"] in res.output and ids["k_a"] not in res.output

    # the library call `generate --verify-sample` makes: other options are verified anew
    with Store.open(db) as s:
        with verify.Verifier(s, ("cuda",), arch=75) as v:
            v.submit([ids["k_a"]])
        report = v.report
        assert report.devices["cuda"].passed == 1 and report.devices["cuda"].skipped == 0
        options = {r["options"] for r in s.kernel_verifications(ids["k_a"]) if r["device"] == "cuda"}
        assert {o.split()[0] for o in options} == {"sm_75", "sm_86"}


@pytest.fixture
def faulty_compiler(tmp_path, monkeypatch):
    """Verify's workers get compilers that abort or hang on planted markers (compiler_faults); the
    pids of the processes that did, as a function of the fault ("abort", "hang") to call after."""
    log = tmp_path / "faults.log"
    monkeypatch.setattr(verify_compile, "_init_worker", compiler_faults.use(log))
    return functools.partial(compiler_faults.faulty_pids, log)


def _plant_abort(db, kid: str) -> None:
    compiler_faults.plant(db, kid, compiler_faults.ABORT_MARKER)


@pytest.mark.slow
def test_compiler_crash_is_recorded_for_its_kernel_and_the_run_goes_on(tmp_path, artifacts, faulty_compiler):
    """A worker whose compiler aborts (SIGABRT) on one kernel of a batch: that kernel is recorded
    as a failed compile naming the crash, the others of its batch get their real results, exit 1
    as for any failed kernel, and the crash shows in `verify --failures`."""
    db = tmp_path / "v.db"
    store, ids = _make_store(db, artifacts)  # k_b's code is broken (a real compile error)
    store.close()
    _plant_abort(db, ids["k_c"])
    runner = CliRunner()
    res = runner.invoke(main, ["verify", "--db", str(db), "--device", "cpu", "--mode", "full", "--workers", "1"])
    assert res.exit_code == 1, res.output
    assert "2 kernel(s) failed verification" in res.output and "1 compiler crash" in res.output

    # the fault happened, in worker processes: the pool's worker, the batch alone, then the
    # crashing kernel alone twice, each a fresh process that died of SIGABRT
    pids = faulty_compiler("abort")
    assert len(pids) >= 4 and len(set(pids)) == len(pids) and os.getpid() not in pids
    with Store.open(db, readonly=True) as s:
        sql = "SELECT kernel_id, ok, diagnostics, options, ms FROM verifications"
        rows = {r[0]: r[1:] for r in s.conn.execute(sql)}
        (run,) = s.runs("verify")
    assert set(rows) == set(ids.values())
    assert rows[ids["k_a"]][0] == 1
    assert rows[ids["k_b"]][0] == 0 and "this_is_not_valid_cpp" in rows[ids["k_b"]][1]
    ok, diagnostics, options, ms = rows[ids["k_c"]]
    assert ok == 0 and "the compiler crashed" in diagnostics and "SIGABRT" in diagnostics
    assert options.startswith("-O2")
    assert ms > 0  # the time its last (fatal) attempt took
    counts = json.loads(run["counts"])
    assert run["status"] == "done" and counts["worker_deaths"] == len(pids)
    assert counts["devices"]["cpu"] | {"compile_ms": 0} == counts["devices"]["cpu"] | {
        "compile_ms": 0,
        "selected": 3,
        "passed": 1,
        "failed": 2,
        "crashed": 1,
    }

    res = runner.invoke(main, ["verify", "--db", str(db), "--failures", "--device", "cpu"])
    assert res.exit_code == 0 and ids["k_c"] in res.output and "SIGABRT" in res.output
    # a rerun compiles nothing: the crash is a result like any other
    res = runner.invoke(main, ["verify", "--db", str(db), "--device", "cpu", "--mode", "full", "--workers", "1"])
    assert res.exit_code == 0 and len(faulty_compiler("abort")) == len(pids), res.output


def test_workers_that_die_on_anything_stop_the_run_in_one_line(tmp_path, artifacts, faulty_compiler, monkeypatch):
    """When a fresh worker dies even compiling no kernel, no kernel is blamed: exit 1, one line."""
    monkeypatch.setattr(verify_compile, "_init_worker", compiler_faults.use(tmp_path / "faults.log", abort_on="any"))
    db = tmp_path / "v.db"
    _make_store(db, artifacts, names=("k_a", "k_c"))[0].close()
    res = CliRunner().invoke(main, ["verify", "--db", str(db), "--device", "cpu", "--workers", "1"])
    assert res.exit_code == 1
    assert "Error: compiler worker processes die even compiling no kernel (abort (SIGABRT))" in res.output
    # the pool's worker, the batch alone, the first kernel alone twice, then the probe
    assert len(faulty_compiler("abort")) == 5
    with Store.open(db, readonly=True) as s:
        assert s.conn.execute("SELECT COUNT(*) FROM verifications").fetchone()[0] == 0
        assert s.runs("verify")[-1]["status"] == "failed"


@pytest.mark.slow
def test_compiler_hang_is_killed_and_recorded_for_its_kernel(tmp_path, artifacts, faulty_compiler, monkeypatch):
    """A compile that never returns: past --compile-timeout its worker is killed (here the local
    pool's, then a lone process's, twice), the batch bisected, the kernel recorded as failed with
    the limit and the time of its last attempt, the others with their real results.  The killed
    workers' folders (they cannot remove them) go with the run's."""
    import tempfile

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    db = tmp_path / "v.db"
    store, ids = _make_store(db, artifacts)  # k_b's code is broken (a real compile error)
    order = store.kernel_ids()  # batches of 2 in this order: the hang is in a batch with another
    store.close()
    hung, other = order[0], order[1]
    compiler_faults.plant(db, hung, compiler_faults.HANG_MARKER)
    res = CliRunner().invoke(
        main,
        ["verify", "--db", str(db), "--device", "cpu", "--workers", "1", "--batch-size", "2", "--compile-timeout", "8"],
    )
    assert res.exit_code == 1, res.output
    assert "2 kernel(s) failed verification" in res.output and "1 compiler hang" in res.output

    # the fault happened, each time in another process (killed): the pool's, the kernel alone, again
    pids = faulty_compiler("hang")
    assert len(pids) == 3 and len(set(pids)) == 3 and os.getpid() not in pids
    assert list(temp.iterdir()) == []
    with Store.open(db, readonly=True) as s:
        rows = {r[0]: r[1:] for r in s.conn.execute("SELECT kernel_id, ok, diagnostics, ms FROM verifications")}
        (run,) = s.runs("verify")
    assert set(rows) == set(ids.values())
    ok, diagnostics, ms = rows[hung]
    assert ok == 0 and "the compiler did not finish within 8 s" in diagnostics and ms >= 8000
    assert rows[other][0] == (other != ids["k_b"])  # the hung kernel's batch mate: its real result
    assert rows[ids["k_b"]][0] == 0 and "this_is_not_valid_cpp" in rows[ids["k_b"]][1]
    assert all(rows[k][0] == 1 for k in ids.values() if k not in (hung, ids["k_b"]))
    counts = json.loads(run["counts"])
    assert run["status"] == "done" and counts["hangs"] == 3
    assert counts["devices"]["cpu"] | {"compile_ms": 0} == counts["devices"]["cpu"] | {
        "compile_ms": 0,
        "selected": 3,
        "passed": 1,
        "failed": 2,
        "crashed": 0,
        "hung": 1,
    }


def test_bad_options_are_usage_errors(tmp_path, artifacts):
    db = tmp_path / "v.db"
    _make_store(db, artifacts)[0].close()
    runner = CliRunner()
    assert runner.invoke(main, ["verify", "--db", str(db), "--sample", "0.5", "--all"]).exit_code == 2
    assert runner.invoke(main, ["verify", "--db", str(db), "--sample", "1.5"]).exit_code == 2
    assert runner.invoke(main, ["verify", "--db", str(db), "--compile-timeout", "0"]).exit_code == 2
    res = runner.invoke(main, ["verify", "--db", str(db), "--arch", "12"])
    assert res.exit_code == 1 and "sm_12" in res.output
    res = runner.invoke(main, ["verify", "--db", str(tmp_path / "missing.db")])
    assert res.exit_code == 1 and not (tmp_path / "missing.db").exists()
    with Store.open(db, readonly=True) as s:
        assert s.conn.execute("SELECT COUNT(*) FROM verifications").fetchone()[0] == 0


def _launch(store, kid, seed):
    k = store.get_kernel(kid)
    module_name = f"curator_vt_launch_{k['name']}"
    module, kernel = launch.load_kernel(k["source"], k["name"], module_name)
    try:
        return launch.launch_random(kernel, module, json.loads(k["kernel_args"]), k["launch_dim"], "cpu", seed=seed)
    finally:
        build.release_module(module_name)


def test_launch_stored_kernels_on_cpu_with_random_inputs(tmp_path, artifacts):
    """Kernels rebuilt from their stored source and args run on CPU and compute what they say."""
    import numpy as np

    store, ids = _make_store(tmp_path / "v.db", artifacts)
    with store:
        a_in, a_out = _launch(store, ids["k_a"], seed=5)  # 1-D arrays, a struct argument
        b_in, b_out = _launch(store, ids["k_b"], seed=5)  # 2-D launch, an int loop bound
        again = _launch(store, ids["k_a"], seed=5)
        other = _launch(store, ids["k_a"], seed=6)
    p = a_in["p"]
    assert a_out["y"].shape == (8, 3) and np.abs(a_in["y"]).max() > 0
    expect_y = a_in["y"] * (np.sin(a_in["x"]) * p.scale)[:, None] + np.array(p.offset)
    assert np.allclose(a_out["y"], expect_y, rtol=1e-5, atol=1e-6)
    assert np.array_equal(a_out["x"], a_in["x"])  # read only
    n = b_in["n"]
    assert b_out["x"].shape == (8, 8)
    assert np.allclose(b_out["x"], (np.cos(b_in["x"]) + b_in["p"].scale) * (n * (n - 1) / 2), rtol=1e-5, atol=1e-5)
    # the same seed gives the same inputs and outputs, another seed other ones
    assert np.array_equal(again[1]["y"], a_out["y"])
    assert not np.array_equal(other[0]["x"], a_in["x"])


def test_differential_compares_and_records(tmp_path, artifacts, monkeypatch):
    """The `--run` comparison and its stored row, with the GPU launch stood in for by a second
    CPU launch (this machine may have no GPU); a perturbed 'GPU' output must be reported as a
    mismatch, naming the array."""
    store, ids = _make_store(tmp_path / "v.db", artifacts, names=("k_a",))
    real = differential._run_on
    calls = []

    def fake(kernel, row, seed, size, device):
        calls.append(device)
        outputs = real(kernel, row, seed, size, device)
        if len(calls) == 4:  # the second kernel run's 'GPU' launch disagrees
            outputs = [(name, a + 1.0 if name == "y" else a) for name, a in outputs]
        return outputs

    monkeypatch.setattr(differential, "_run_on", fake)
    cpu_twice = {"workers": 0, "devices": ("cpu", "cpu"), "trust_real": True}
    with store:
        # hand-written kernels are stored as synthetic here: running them needs the trust flag
        # that real kernels get, or they are refused (see test_launch_runs_only_generator_source)
        store.conn.execute("UPDATE kernels SET origin = 'real'")
        (same,) = differential.differential(store, [ids["k_a"]], seed=2, **cpu_twice)
        (differs,) = differential.differential(store, [ids["k_a"]], seed=3, **cpu_twice)
        rows = store.conn.execute("SELECT ok, diagnostics, options FROM verifications ORDER BY options").fetchall()
        assert store.verified_ids("cuda") == set()  # launches are not compile verifications
    assert calls == ["cpu"] * 4
    assert (same.ok, same.status) == (True, "same")
    assert (differs.ok, differs.status) == (False, "differ") and differs.message.endswith(": y")
    assert [(ok, opts.split()[-1]) for ok, _, opts in rows] == [(1, "seed=2"), (0, "seed=3")]


BAD_HANDLE = """import warp as wp


@wp.kernel
def bad_handle(a: wp.array(dtype=wp.vec3), n: int):
    i = wp.tid()
    a[i] = wp.mesh_eval_position(wp.uint64(n), 0, 0.5, 0.5)
"""


def test_differential_in_workers_pair_checks_and_survives_a_crash(tmp_path):
    """The worker path of `--run` (CPU standing in for the GPU): generated kernels of every kind
    of input (a mesh handle, a struct, a tile kernel) come out 'same'; a stored piece edited
    after generation fails the pair check against Warp's kernel cache; a kernel reading a mesh
    through a made-up handle kills its worker (SIGSEGV), is recorded as crashed, and the next
    kernel runs in a fresh worker."""
    from curator.generate import record_for_spec
    from curator.kernels import generate_kernel

    specs = [
        next(s for s in (generate_kernel(seed, c) for seed in range(40)) if ok(s.source))
        for c, ok in (
            ("geometry", lambda src: "wp.mesh_" in src),
            ("struct", lambda src: True),
            ("tile", lambda src: "tile_load" in src),
        )
    ]
    records = [record_for_spec(spec, 0, 0, ("cpu",)) for spec in specs]
    edited = record_for_spec(generate_kernel(3, "math"), 0, 0, ("cpu",))
    fwd = edited.artifacts["cpu"]["pieces"]["forward"]
    edited.artifacts["cpu"]["pieces"]["forward"] = fwd.replace("{", "{\n    // edited after generation", 1)
    pieces = build.generate(BAD_HANDLE, "bad_handle", "m_bad_handle", ("cpu",))["cpu"].pieces
    crash = KernelRecord(
        id=kernel_id(BAD_HANDLE),
        name="bad_handle",
        category="arithmetic",
        source=BAD_HANDLE,
        skeleton_hash="x",
        minhash=neardup.signature_of_tokens(neardup.normalize_tokens(BAD_HANDLE)),
        artifacts={"cpu": {"pieces": pieces, "codegen_ms": 1.0, "warp_version": "1.19.0"}},
        launch_dim=1,
        kernel_args=[["a", "wp.array(dtype=wp.vec3)"], ["n", "int"]],
    )
    store = Store.open(tmp_path / "d.db", create=True)
    with store:
        store.write_batch([*records, edited, crash], [], None)
        store.conn.execute("UPDATE kernels SET origin = 'real' WHERE id = ?", (crash.id,))
        order = [crash.id, *(r.id for r in records), edited.id]
        results = list(
            differential.differential(store, order, seed=1, workers=1, devices=("cpu", "cpu"), trust_real=True)
        )
    by_id = {r.kernel_id: r for r in results}
    assert by_id[crash.id].status == "crashed" and "SIGSEGV" in by_id[crash.id].message
    assert [by_id[r.id].status for r in records] == ["same", "same", "same"], [by_id[r.id].message for r in records]
    assert by_id[edited.id].status == "pair-mismatch" and "edited after generation" in by_id[edited.id].message


def test_launch_runs_only_generator_source(tmp_path):
    """`verify --run` executes a kernel's Python only if it is the generator's own output for
    its seed (or an ingested kernel with --trust); an edited store is refused, never run."""
    from curator.generate import record_for_spec
    from curator.kernels import generate_kernel

    spec = generate_kernel(12, "math")
    rec = record_for_spec(spec, 0, 0, ("cpu",))
    store = Store.open(tmp_path / "s.db", create=True)
    with store:
        store.write_batch([rec], [], None)
        k = store.get_kernel(rec.id)
        assert differential.executable_source(k) is None
        tampered = k | {"source": k["source"] + "\nimport os  # injected\n"}
        assert "differs" in differential.executable_source(tampered)
        assert "generator" in differential.executable_source(k | {"generator_version": "0.0.1"})
        real = k | {"origin": "real"}
        assert "--trust" in differential.executable_source(real)
        assert differential.executable_source(real, trust_real=True) is None
        store.conn.execute("UPDATE kernels SET source = source || '\n# edited'")
        (result,) = differential.differential(store, [rec.id])
        assert not result.ok and "not executed" in result.message
