"""The GPU check, for a machine with an NVIDIA GPU (meant to finish within 5 minutes).  Without a
GPU it says so and exits 0.  Prints figures; asserts nothing.

    python bench/bench_gpu.py [--kernels 500] [--seed 101] [--real 0.1] [--workers N] [--json FILE]

On a fresh store of --kernels generated kernels (all categories, round-robin), and on a --real
share of the kernels `curator ingest --package warp` finds in the installed Warp:
1. `curator verify --device all --mode full --arch <this GPU's> --execute`: the stored C++ and
   CUDA compiled with Warp's own options for this GPU's architecture, and every kernel run on the
   CPU (pair and adjoint checks) on a machine whose default Warp device is the GPU.
2. The differential of `curator verify --run`: each kernel launched through Warp's JIT on the CPU
   and on the GPU with the same seeded inputs (meshes, volumes, textures built on each device),
   every array compared, and the .cu Warp compiled for the GPU launch compared with the stored
   CUDA code.  Figures per category and per outcome.
3. The GPU half of `curator eval`: a small release exported from that store, its `cuda` test
   split scored by execution on the GPU (`eval score --config cuda --baseline reference`, forward
   and backward, and `--baseline shuffled`): predictions compiled by Warp for this GPU, launched on
   seeded inputs, every array compared with the stored CUDA code's launch in another process.
   Without a GPU (--dry-run-on-cpu) the `cuda` runs are compiled with NVRTC and "compiled, not
   run", and the `cpu` config stands in for the launches.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernels", type=int, default=500, help="generated kernels (default 500)")
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--real", type=float, default=0.1, help="share of ingested Warp kernels to run (0: none)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--dry-run-on-cpu",
        action="store_true",
        help="rehearse every step without a GPU: a second CPU launch stands in for the GPU's, sm_86",
    )
    args = ap.parse_args()

    from curator.warp import init_warp, launch

    wp = init_warp()
    if args.dry_run_on_cpu:
        args.devices, name, arch = ("cpu", "cpu"), "none (dry run: the CPU stands in)", 86
    elif not launch.cuda_available():
        print("bench_gpu: SKIPPED - no CUDA driver or NVIDIA GPU on this machine; nothing was measured.")
        return
    else:
        args.devices, name, arch = ("cpu", "cuda:0"), wp.get_device("cuda:0").name, wp.get_device("cuda:0").arch
    gpu = argparse.Namespace(name=name, arch=arch)
    print(f"GPU: {gpu.name}, sm_{gpu.arch}; Warp {wp.config.version}; {args.workers} workers", flush=True)
    figures: dict = {"gpu": gpu.name, "arch": gpu.arch, "warp": wp.config.version, "steps": {}}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "gpu.db")
        w = ["--workers", str(args.workers)]
        _step(figures, "generate", ["generate", "--count", str(args.kernels), "--seed", str(args.seed), *w, "--db", db])
        _step(
            figures,
            "verify full + CPU runs (synthetic)",
            [
                "verify",
                "--device",
                "all",
                "--mode",
                "full",
                "--arch",
                str(gpu.arch),
                "--origin",
                "synthetic",
                "--execute",
                *w,
                "--db",
                db,
            ],
        )
        if args.real > 0:
            _step(figures, "ingest --package warp", ["ingest", "--package", "warp", *w, "--db", db])
            _step(
                figures,
                "verify full (real sample)",
                [
                    "verify",
                    "--device",
                    "all",
                    "--mode",
                    "full",
                    "--arch",
                    str(gpu.arch),
                    "--origin",
                    "real",
                    "--sample",
                    str(args.real),
                    "--seed",
                    str(args.seed),
                    *w,
                    "--db",
                    db,
                ],
            )
        _compile_figures(figures, db)
        _differential(figures, db, args)
        _eval(figures, db, tmp, args)
    figures["total_s"] = round(time.perf_counter() - started, 1)
    print(f"total {figures['total_s']} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


def _step(figures: dict, name: str, argv: list[str]) -> None:
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "curator", *argv], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    tail = (res.stdout + res.stderr).strip().splitlines()[-6:]
    figures["steps"][name] = {"rc": res.returncode, "s": round(seconds, 1), "tail": tail}
    print(f"\n== {name}: rc {res.returncode}, {seconds:.1f} s", flush=True)
    for line in tail:
        print(f"   {line}")


def _compile_figures(figures: dict, db: str) -> None:
    from curator.store import Store

    with Store.open(db, readonly=True) as s:
        rows = s.conn.execute(
            "SELECT k.origin, v.device, v.compiler, v.options, SUM(v.ok), COUNT(*) FROM verifications v "
            "JOIN kernels k ON k.id = v.kernel_id WHERE v.compiler NOT LIKE 'launch%' GROUP BY 1, 2, 3, 4"
        ).fetchall()
        runs = s.conn.execute(
            "SELECT k.origin, e.status, e.grad, COUNT(*) FROM executions e JOIN kernels k ON k.id = e.kernel_id "
            "GROUP BY 1, 2, 3"
        ).fetchall()
    print("\n== compiled (Warp's own options, this GPU's architecture)")
    figures["compiled"] = []
    for origin, device, compiler, options, ok, n in rows:
        print(f"   {origin:9} {device:4} {ok}/{n} compiled  ({compiler}; {options[:70]})")
        figures["compiled"].append({"origin": origin, "device": device, "ok": ok, "n": n, "options": options})
    print("== CPU runs on this GPU machine (status, adjoint)")
    figures["cpu_runs"] = [{"origin": o, "status": st, "grad": g, "n": n} for o, st, g, n in runs]
    for o, st, g, n in runs:
        print(f"   {o:9} {st:12} grad {g or '-':18} {n}")


def _differential(figures: dict, db: str, args) -> None:
    from curator.store import Store
    from curator.verify import differential

    t0 = time.perf_counter()
    per_cat: dict = defaultdict(Counter)
    bad: list = []
    with Store.open(db) as s:
        both = s.verified_ids("cpu") & s.verified_ids("cuda")
        ids = [k for k in s.kernel_ids(origin="synthetic") if k in both]  # ingested ones are stored without imports
        cats = {k: (r[0], r[1]) for k, *r in s.conn.execute("SELECT id, origin, category FROM kernels")}
        for r in differential.differential(
            s, ids, seed=args.seed, trust_real=True, workers=args.workers, devices=args.devices
        ):
            origin, category = cats[r.kernel_id]
            per_cat[(origin, category)][r.status] += 1
            if not r.ok:
                bad.append((origin, category, r.kernel_id, r.status, r.message[:300]))
    seconds = time.perf_counter() - t0
    total: Counter = Counter()
    for c in per_cat.values():
        total.update(c)
    n = sum(total.values())
    print(
        f"\n== CPU vs GPU differential ({n} kernels compiled for both devices, {seconds:.1f} s, "
        f"{n / max(seconds, 1e-9):.1f} kernels/s on {args.workers} workers)"
    )
    print(f"   {dict(total.most_common())}")
    statuses = sorted(total)
    print(f"   {'origin':9} {'category':18} " + " ".join(f"{st:>13}" for st in statuses))
    for (origin, category), c in sorted(per_cat.items()):
        print(f"   {origin:9} {category:18} " + " ".join(f"{c[st]:>13}" for st in statuses))
    print("== not ok (first 40)")
    for row in bad[:40]:
        print("   " + " | ".join(row))
    figures["differential"] = {
        "seconds": round(seconds, 1),
        "total": dict(total),
        "per_category": {f"{o}/{c}": dict(v) for (o, c), v in sorted(per_cat.items())},
        "not_ok": bad,
    }


def _eval(figures: dict, db: str, tmp: str, args) -> None:
    """`curator eval score` of a small release of this store, on the GPU (or compiled only, with
    the CPU standing in, in a dry run)."""
    rel = str(Path(tmp) / "eval-release")
    # small: a 0.3 MiB train split (~15 kernels), a test split of ~0.24 MiB (the kernels scored)
    cut = ["--target-mb", "0.3", "--splits", "train=0.5,validation=0.1,test=0.4", "--allow-short"]
    _step(figures, "export for eval", ["export", "--db", db, "--device", "all", *cut, "--out", rel])
    runs = [("cuda", "reference", "forward"), ("cuda", "reference", "backward"), ("cuda", "shuffled", "forward")]
    if args.dry_run_on_cpu:
        runs += [("cpu", "reference", "forward"), ("cpu", "shuffled", "forward")]
    figures["eval"] = {}
    for config, baseline, target in runs:
        argv = ["eval", "score", "--release", rel, "--config", config, "--baseline", baseline, "--target", target]
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "curator", *argv, "--json"], capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        key = f"{config} {baseline} {target}"
        try:
            summary = json.loads(res.stdout)
        except json.JSONDecodeError:
            summary = {"error": (res.stdout + res.stderr).strip().splitlines()[-3:]}
        figures["eval"][key] = {"rc": res.returncode, "s": round(seconds, 1), **summary}
        print(f"\n== eval {key}: rc {res.returncode}, {seconds:.1f} s")
        got = {k: summary.get(k) for k in ("overall", "statuses", "excluded")}
        print(f"   {got}")


if __name__ == "__main__":
    main()
