"""More tile motifs: block linear solves, FFT filters, indexed gathers/scatters, shared stacks, tiled queries."""

from __future__ import annotations

from . import names as N
from .extras import post_float
from .kernel import Kernel
from .motifs_tile import _tile_const, _tiled, epilogue


def tile_linear_solve(k: Kernel) -> None:
    """One small SPD system per block: regularise, Cholesky-factor, solve (in or out of place)."""
    _tiled(k)
    n = _tile_const(k, ("DIM", "N", "TILE_DIM"))
    A = k.array(("A", "H", "gram", "K"), "float", 3)
    b = k.array(("b", "rhs", "g"), "float", 2)
    x = k.array(("x", "sol", "delta"), "float", 2)
    (i,) = k.thread(k.pick(("i", "batch", "env")))
    a = k.let(("a", "mat", "a_tile"), f'wp.tile_load({A}[{i}], shape=({n}, {n}), storage="shared")')
    reg = k.scalar(("reg", "damping", "lam"))
    if k.chance(0.5):
        k.emit(f"wp.tile_diag_add({a}, wp.tile_full({n}, {reg}, dtype=float))")
    else:
        shape = k.pick((n, f"({n},)"))
        k.emit(f"wp.tile_diag_add({a}, wp.tile_ones(shape={shape}, dtype=float) * {reg})")
    y = k.let(("y", "r", "rhs_t"), f"wp.tile_load({b}[{i}], shape={n})")
    form = k.rng.randrange(3)
    if form == 0:
        L = k.let(("L", "chol"), f"wp.tile_cholesky({a})")
        sol = k.let(("s", "sol_t"), f"wp.tile_cholesky_solve({L}, {y})")
    elif form == 1:
        k.emit(f"wp.tile_cholesky_inplace({a})")
        k.emit(f"wp.tile_cholesky_solve_inplace({a}, {y})")
        sol = y
    else:
        L = k.let(("L", "chol"), f"wp.tile_cholesky({a})")
        if k.chance(0.5):
            z = k.let(("z", "fwd"), f"wp.tile_lower_solve({L}, {y})")
            sol = k.let(("s", "sol_t"), f"wp.tile_upper_solve(wp.tile_transpose({L}), {z})")
        else:
            k.emit(f"wp.tile_lower_solve_inplace({L}, {y})")
            k.emit(f"wp.tile_upper_solve_inplace(wp.tile_transpose({L}), {y})")
            sol = y
    epilogue(k, sol)
    k.emit(f"wp.tile_store({x}[{i}], {sol})")


def tile_fft_filter(k: Kernel) -> None:
    """Row-wise FFT, a spectral scaling, inverse FFT (complex values as vec2)."""
    _tiled(k)
    rows = k.mod.const(("ROWS", "BATCH", "M"), str(k.pick((1, 2, 4))))
    size = k.mod.const(("FFT_SIZE", "N_FFT", "SIGNAL_LEN"), str(k.pick((256, 512))))
    sig = k.array(("signal", "data", "field"), "wp.vec2", 2)
    (i,) = k.thread(k.pick(("i", "b")))
    t = k.let(("t", "spec", "f"), f"wp.tile_load({sig}, shape=({rows}, {size}), offset=({i} * {rows}, 0))")
    k.emit(f"wp.tile_fft({t})")
    form = k.rng.randrange(4)
    if form == 1:
        k.emit(f"{t} = {t} * {k.scalar(('gain', 'scale', 'norm'))}")
    elif form == 2:
        filt = k.array(("kernel_hat", "filter", "response"), "wp.vec2", 2)
        k.emit(f"{t} = wp.tile_map(wp.cw_mul, {t}, wp.tile_load({filt}, shape=({rows}, {size})))")
    elif form == 3:
        power = k.array(("power", "spectrum", "psd"), "float", 2)
        k.emit(f"wp.tile_store({power}, wp.tile_map(wp.length_sq, {t}), offset=({i} * {rows}, 0))")
    k.emit(f"wp.tile_ifft({t})")
    k.emit(f"wp.tile_store({sig}, {t}, offset=({i} * {rows}, 0))")


def tile_gather_scatter(k: Kernel) -> None:
    """Index tiles: gathers from global memory, indexed stores, atomic scatter-adds, tile[ids]."""
    _tiled(k)
    n = _tile_const(k)
    src = k.array(N.IN_F, "float", 2)
    ids = k.array(N.IDX, "int")
    (i,) = k.thread(k.pick(("i", "b")))
    it = k.let(("idx", "ids_t", "rows"), f"wp.tile_load({ids}, shape={n}, offset={i} * {n})")
    form = k.rng.randrange(3)
    cols = k.mod.const(("COLS", "WIDTH", "FEAT"), str(k.pick((4, 8, 16))))
    if form == 0:
        g = k.let(
            ("g", "gathered"), f"wp.tile_load_indexed({src}, indices={it}, shape=({n}, {cols}), offset=(0, 0), axis=0)"
        )
        dst = k.array(N.OUT_F, "float", 2)
        epilogue(k, g)
        k.emit(f"wp.tile_store({dst}, {g}, offset=({i} * {n}, 0))")
    elif form == 1:
        t = k.let(("t", "block"), f"wp.tile_load({src}, shape=({n}, {cols}), offset=({i} * {n}, 0))")
        epilogue(k, t)
        dst = k.array(("accum", "grad", "out"), "float", 2)
        if k.chance(0.5):
            k.emit(f"wp.tile_atomic_add_indexed({dst}, {it}, {t}, offset=(0, 0), axis=0)")
        else:
            k.emit(f"wp.tile_store_indexed({dst}, {it}, {t}, offset=(0, 0), axis=0)")
    else:
        t = k.let(("t", "block"), f"wp.tile_load({src}, shape=({n}, {cols}), offset=({i} * {n}, 0))")
        picked = k.let(("picked", "sel"), f"{t}[{it}]")
        epilogue(k, picked)
        out = k.array(N.OUT_F, "float")
        k.emit(f"wp.tile_store({out}, wp.tile_sum({picked}, axis=1), offset={i} * {n})")


def tile_shapes(k: Kernel) -> None:
    """Reshapes, squeezes, views and sub-tile assignment around a block of data."""
    _tiled(k)
    m = _tile_const(k, ("TILE_M", "ROWS"))
    n = _tile_const(k, ("TILE_N", "COLS"))
    x = k.array(N.IN_F, "float", 2)
    out = k.array(N.OUT_F, "float", 2)
    i, j = k.thread(*k.pick((("i", "j"), ("bi", "bj"))))
    t = k.let(("t", "blk"), f'wp.tile_load({x}, shape=({m}, {n}), offset=({i} * {m}, {j} * {n}), storage="shared")')
    form = k.rng.randrange(3)
    if form == 0:
        flat = k.let(("flat", "v"), f"wp.tile_reshape({t}, shape=(1, wp.static({m} * {n})))")
        row = k.let(("row", "sq"), f"wp.tile_squeeze({flat}, axis=(0,))")
        res = k.let(("res", "r"), f"wp.tile_reshape(wp.tile_map(wp.abs, {row}), shape=({m}, {n}))")
    elif form == 1:
        res = k.let(("res", "r"), f'wp.tile_zeros(shape=({m}, {n}), dtype=float, storage="shared")')
        half = k.let(("top", "v"), f"wp.tile_view({t}, offset=(0, 0), shape=({m}, {n}))")
        k.emit(f"wp.tile_assign({res}, wp.tile_transpose(wp.tile_transpose({half})), offset=(0, 0))")
    else:
        e = k.let(("res", "buf"), f"wp.tile_empty(shape=({m}, {n}), dtype=float)")
        col = k.let(
            ("col_sum", "cs"), f"wp.tile_reduce(wp.add, {t}, axis=0)" if k.chance(0.5) else f"wp.tile_sum({t}, axis=0)"
        )
        k.emit(f"wp.tile_assign({e}, {t} - wp.tile_broadcast({col}, shape=({m}, {n})), offset=(0, 0))")
        res = e
    epilogue(k, res)
    if k.chance(0.3):
        corner = k.array(("corner", "first", "probe"), "float", 2)
        k.emit(f"{corner}[{i}, {j}] = wp.tile_extract({res}, {m} - 1, 0)")
    k.emit(f"wp.tile_store({out}, {res}, offset=({i} * {m}, {j} * {n}))")


def tile_random(k: Kernel) -> None:
    """Random tiles for initialisation and dropout-style masks."""
    _tiled(k)
    n = _tile_const(k)
    out = k.array(("w", "weights", "init"), "float")
    seed = k.scalar(N.SEED, "int")
    (i,) = k.thread(k.pick(("i", "b")))
    rng = k.let(("rng", "state"), f"wp.rand_init({seed}, {i})")
    if k.chance(0.5):
        lo = k.num(0.01, 0.5)
        t = k.let(("t", "r"), f"wp.tile_randf({k.pick((n, f'({n},)'))}, {rng}, -{lo}, {lo})")
    else:
        t = k.let(("t", "r"), f"wp.tile_randf({k.pick((n, f'({n},)'))}, {rng})")
    if k.chance(0.5):
        shape = k.pick((n, f"({n},)"))
        mask = k.let(
            ("mask", "keep"),
            f"wp.tile_randi({shape}, {rng}, 0, 2)" if k.chance(0.5) else f"wp.tile_randi({shape}, {rng})",
        )
        k.emit(f"{t} = wp.tile_map(wp.mul, {t}, wp.tile_astype({mask}, dtype=float))")
    epilogue(k, t)
    k.emit(f"wp.tile_store({out}, {t}, offset={i} * {n})")


def tile_scatter_bins(k: Kernel) -> None:
    """Per-thread values binned into a shared tile (scatter-add / masked write), then flushed."""
    _tiled(k, lane=True)
    bins = _tile_const(k, ("NUM_BINS", "BINS", "BUCKETS"))
    x = k.array(N.IN_F, "float")
    hist = k.array(("hist", "counts", "bins_out"), "float")
    block, lane = k.thread(k.pick(("block", "b")), k.pick(("lane", "t")))
    idx = k.let(("idx", "gid"), f"{block} * wp.block_dim() + {lane}")
    valid = k.let(("valid", "in_range"), f"{idx} < {x}.shape[0]")
    v = k.let(("v", "val"), f"{x}[wp.min({idx}, {x}.shape[0] - 1)]")
    post_float(k, v, 1)
    t = k.let(("t", "local"), f'wp.tile_zeros(shape={bins}, dtype=float, storage="shared")')
    if k.chance(0.6):
        b = k.let(("bin", "slot"), f"wp.clamp(int({v} * float({bins})), 0, {bins} - 1)")
        if k.chance(0.5):
            w = k.array(N.WEIGHTS, "float")
            k.emit(f"wp.tile_scatter_add({t}, {b}, {w}[wp.min({idx}, {w}.shape[0] - 1)], {valid}, True)")
        else:
            k.emit(f"wp.tile_scatter_add({t}, {b}, 1.0, {valid}, True)")
    else:
        k.emit(f"wp.tile_scatter_masked({t}, {lane} % {bins}, {v}, {valid} and {lane} < {bins})")
    k.emit(f"wp.tile_atomic_add({hist}, {t})")


def tile_work_stack(k: Kernel) -> None:
    """A shared work stack: threads push candidates, the block pops and counts them."""
    _tiled(k, lane=True)
    cap = _tile_const(k, ("CAPACITY", "STACK_SIZE", "MAX_ITEMS"))
    x = k.array(N.IN_F, "float")
    out = k.array(("selected", "picked", "queue_out"), "int")
    thr = k.scalar(N.EPS)
    block, lane = k.thread(k.pick(("block", "b")), k.pick(("lane", "t")))
    idx = k.let(("idx", "gid"), f"{block} * wp.block_dim() + {lane}")
    st = k.let(("stack", "work", "s"), f"wp.tile_stack(capacity={cap}, dtype=int)")
    v = k.let(("v", "score"), f"{x}[{idx}]")
    post_float(k, v, 1)
    k.emit(f"wp.tile_stack_push({st}, {idx}, {v} > {thr})")
    count = k.let(("count", "n"), f"wp.tile_stack_count({st})")
    item, ok = k.fresh("item", "v"), k.fresh("ok", "has")
    k.emit(f"{item}, {ok} = wp.tile_stack_pop({st})")
    with k.block(f"if {ok}:"):
        k.emit(f"{out}[{item}] = {count}")
    if k.chance(0.5):
        k.emit(f"wp.tile_stack_clear({st})")


def tile_bvh_batch(k: Kernel) -> None:
    """Block-parallel BVH or mesh traversal: every lane takes results from a shared query."""
    _tiled(k)
    use_mesh = k.chance(0.4)
    handle = k.param(N.MESH if use_mesh else N.BVH, "wp.uint64")
    lo = k.array(("lowers", "query_lo", "box_lo"), "wp.vec3")
    hi = k.array(("uppers", "query_hi", "box_hi"), "wp.vec3")
    hits = k.array(("hits", "touched", "flags"), "int")
    (i,) = k.thread(k.pick(("i", "q")))
    if use_mesh:
        # (the *_tiled aliases are deprecated since Warp 1.18: not generated)
        make, nxt = "tile_mesh_query_aabb", "tile_mesh_query_aabb_next"
        query = k.let(("query", "mq"), f"wp.{make}({handle}, {lo}[{i}], {hi}[{i}])")
    else:
        make = k.pick(("tile_bvh_query_aabb", "tile_bvh_query_ray"))
        nxt = "tile_bvh_query_next"
        if "ray" in make:
            query = k.let(("query", "rq"), f"wp.{make}({handle}, {lo}[{i}], wp.normalize({hi}[{i}] - {lo}[{i}]))")
        else:
            query = k.let(("query", "bq"), f"wp.{make}({handle}, {lo}[{i}], {hi}[{i}])")
    count = k.let(("count", "n_hits"), "int(0)") if k.chance(0.4) else None
    with k.block(f"while wp.tile_query_valid({query}):"):
        r = k.let(("r", "bound", "face"), f"wp.untile(wp.{nxt}({query}))")
        test = f"{r} >= 0 and {r} != {i}" if k.chance(0.3) else f"{r} >= 0"
        with k.block(f"if {test}:"):
            if count is not None:
                k.emit(f"{count} += 1")
            else:
                k.emit(f"wp.atomic_add({hits}, {r}, 1)")
    if count is not None:
        k.emit(f"wp.atomic_add({hits}, {i}, {count})")
