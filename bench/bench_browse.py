"""Benchmark of `curator browse` on a 100,000-kernel store: time to first screen, and time from
a key press to the next kernel shown (median over 100 moves).  Targets: <= 1.5 s, <= 50 ms.

The store is built fast by bulk-inserting synthetic rows with sqlite: 24 real generated kernels
(curator.kernels + Warp codegen) are copied under new names and ids, round-robin over the
categories.  Every kernel row is real (source, FTS index, skeleton); generated code is stored
for the first ``--with-code`` kernels (real sizes, about 80 KB a kernel) to keep the file small;
the benchmark moves only through kernels that have code.

    .venv/bin/python bench/bench_browse.py [--kernels 100000] [--moves 100] [--db PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import tempfile
import time
from pathlib import Path

from curator.store import Store
from curator.store.kernels import PIECE_COLUMNS

SIZE = (160, 48)


def templates(n: int = 24):
    from curator.generate import make_record
    from curator.kernels import CATEGORIES, generate_kernel

    out, seed = [], 0
    while len(out) < n:
        category = CATEGORIES[seed % len(CATEGORIES)]
        rec = make_record(generate_kernel(seed, category), None, seed, ("cpu", "cuda"))
        if hasattr(rec, "artifacts"):
            out.append(rec)
        seed += 1
    return out


def build(path: Path, kernels: int, with_code: int) -> None:
    from curator.kernels import CATEGORIES

    Store.open(path, create=True).close()
    recs = templates()
    with Store.open(path) as store, store.transaction() as conn:
        stamp = "2025-01-01T00:00:00+00:00"
        for start in range(0, kernels, 10_000):
            krows, arows = [], []
            for i in range(start, min(kernels, start + 10_000)):
                t = recs[i % len(recs)]
                category = CATEGORIES[i % len(CATEGORIES)]
                name = f"{t.name}_{i}"
                source = t.source.replace(t.name, name)
                kid = hashlib.sha256(source.encode()).hexdigest()[:20]
                krows.append((kid, name, category, source, t.skeleton_hash, t.minhash, stamp))
                if i < with_code:
                    for device, art in t.artifacts.items():
                        pieces = [art["pieces"][p].replace(t.name, name) for p in PIECE_COLUMNS]
                        size = sum(len(p.encode()) for p in pieces)
                        arows.append((kid, device, *pieces, size, art["warp_version"], 1.0, stamp))
            conn.executemany(
                "INSERT INTO kernels (id, name, category, source, skeleton_hash, minhash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                krows,
            )
            conn.executemany(
                "INSERT INTO artifacts (kernel_id, device, structs, functions, args, forward, backward, entry,"
                " bytes, warp_version, codegen_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arows,
            )


async def wait_for(pilot, condition, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the browser did not show the kernel in time")
        await asyncio.sleep(0.0005)


async def measure(path: Path, moves: int) -> tuple[float, list[float]]:
    from curator.tui.app import CuratorApp
    from curator.tui.screens.main import MainScreen
    from curator.tui.widgets.kernel_list import KernelList

    t0 = time.perf_counter()
    store = Store.open(path)
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:

        def screen() -> MainScreen:
            return next(s for s in app.screen_stack if isinstance(s, MainScreen))

        def shown(kernel_id: str | None = None):
            def check() -> bool:
                try:
                    s = screen()
                except StopIteration:
                    return False
                d = s.detail
                return d is not None and (kernel_id is None or d.id == kernel_id) and bool(s.query_one("#right").text)

            return check

        await wait_for(pilot, shown())
        first = time.perf_counter() - t0
        times = []
        kernels = screen().query_one(KernelList)
        for _ in range(moves):
            target = kernels.rows[kernels.highlighted + 1].id
            t = time.perf_counter()
            await pilot.press("down")
            await wait_for(pilot, shown(target))
            times.append(time.perf_counter() - t)
        await pilot.press("q")
    store.close()
    return first, times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernels", type=int, default=100_000)
    ap.add_argument("--with-code", type=int, default=2_000)
    ap.add_argument("--moves", type=int, default=100)
    ap.add_argument("--db", type=Path, help="reuse or create the store here (default: a temporary file)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted({100, args.kernels}):
            path = args.db if (args.db and n == args.kernels) else Path(tmp) / f"bench{n}.db"
            if not path.exists():
                t = time.perf_counter()
                build(path, n, min(n, args.with_code))
                print(f"built {n:,}-kernel store in {time.perf_counter() - t:.1f} s ({path.stat().st_size >> 20} MiB)")
            first, times = asyncio.run(measure(path, min(args.moves, n - 1)))
            ms = sorted(1000 * x for x in times)
            print(
                f"{n:>7,} kernels: first screen {first:.2f} s (target <= 1.5 s); key -> next kernel shown: "
                f"median {statistics.median(ms):.1f} ms, p90 {ms[int(0.9 * len(ms))]:.1f} ms, max {ms[-1]:.1f} ms"
                f" over {len(ms)} moves (target <= 50 ms)"
            )


if __name__ == "__main__":
    main()
