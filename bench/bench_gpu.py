"""CPU-vs-GPU differential and GPU compile on a sample, for a machine with an NVIDIA GPU (meant to
finish within 5 minutes).  Without a GPU it says so and exits 0.  Prints figures; asserts nothing.

    python bench/bench_gpu.py [--db STORE] [--kernels 40] [--seed 101] [--budget-s 270]

Without --db a fresh store of --kernels generated kernels is made first.  For each kernel: the
stored CUDA code compiled by NVRTC for this GPU's architecture (full mode, Warp's options), then
the kernel launched on CPU and GPU with the same seeded inputs and every array compared
(`curator verify --run`).  Stops starting new kernels once --budget-s is spent.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="an existing store (default: generate one)")
    ap.add_argument("--kernels", type=int, default=40)
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--budget-s", type=float, default=270.0)
    args = ap.parse_args()

    from curator.warp import init_warp, launch

    wp = init_warp()
    if not launch.cuda_available():
        print("bench_gpu: SKIPPED - no CUDA driver or NVIDIA GPU on this machine; nothing was measured.")
        return
    arch = wp.get_device("cuda:0").arch
    print(f"GPU: {wp.get_device('cuda:0').name}, sm_{arch}")
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "gpu.db"
            subprocess.run([sys.executable, "-m", "curator", "generate", "--count", str(args.kernels), "--seed",
                            str(args.seed), "--db", str(db)], check=True, capture_output=True)  # fmt: skip
        run(db, args.kernels, args.seed, arch, args.budget_s)


def run(db: Path, kernels: int, seed: int, arch: int, budget_s: float) -> None:
    from curator import differential
    from curator.store import Store
    from curator.warp import build
    from curator.warp import compile as warp_compile

    started = time.perf_counter()
    with Store.open(db) as store:
        ids = sorted(store.kernel_ids())[:kernels]
        pieces = store.artifact_pieces(ids, "cuda")
        compiler = warp_compile.Compiler("cuda", arch, mode="full")
        compiled = failed_compile = 0
        t0 = time.perf_counter()
        for kid in ids:
            if time.perf_counter() - started > budget_s / 2:
                break
            ok = compiler.compile(build.module_source("cuda", pieces[kid])).ok
            compiled += ok
            failed_compile += not ok
        compile_s = time.perf_counter() - t0
        compiler.close()
        print(f"NVRTC sm_{arch} full: {compiled} compiled, {failed_compile} failed in {compile_s:.1f} s")
        same = differ = 0
        t0 = time.perf_counter()
        for result in differential.differential(store, ids, seed=seed):
            same += result.ok
            differ += not result.ok
            if not result.ok:
                print(f"  differs/failed: {result.kernel_id}: {result.message[:200]}")
            if time.perf_counter() - started > budget_s:
                break
        print(f"CPU vs GPU: {same} kernels gave the same outputs, {differ} did not ({time.perf_counter() - t0:.1f} s)")
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
