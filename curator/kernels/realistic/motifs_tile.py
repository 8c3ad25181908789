"""Tile motifs (wp.launch_tiled): GEMM, row reductions, softmax, scans and sorts, small solvers, FFT."""

from __future__ import annotations

from . import names as N
from .extras import post_float
from .kernel import Kernel
from .writer import IND

_ACT = (
    ("relu", "return wp.max(x, 0.0)"),
    ("gelu", "return 0.5 * x * (1.0 + wp.tanh(0.7978846 * (x + 0.044715 * x * x * x)))"),
    ("sigmoid", "return 1.0 / (1.0 + wp.exp(-x))"),
    ("softplus", "return wp.log(1.0 + wp.exp(x))"),
    ("leaky_relu", "return wp.where(x > 0.0, x, 0.01 * x)"),
)
_UNARY_TILE_OPS = ("wp.exp", "wp.sin", "wp.cos", "wp.tanh", "wp.abs", "wp.sqrt", "wp.floor", "wp.neg")
_REDUCE_OPS = ("wp.add", "wp.mul", "wp.min", "wp.max")


def storage(k: Kernel) -> str:
    """An explicit storage argument for a tile_load, as tuned kernels often give."""
    return k.pick(("", "", "", ', storage="shared"', ', storage="register"'))


def _tiled(k: Kernel, lane: bool = False) -> None:
    k.block_dim = k.pick((32, 64, 128, 256))
    k.lane = lane


def _tile_const(k: Kernel, pool=("TILE", "TILE_SIZE", "BLOCK", "TILE_N")) -> str:
    return k.mod.const(pool, str(k.pick((8, 16, 32))))


def _activation(k: Kernel) -> str:
    name, body = k.pick(_ACT)
    if name not in k.mod.taken:
        k.mod.taken.add(name)
        k.mod.block(["@wp.func", f"def {name}(x: float):", IND + body])
    return name


def epilogue(k: Kernel, t: str) -> None:
    """Optional element-wise work on a float tile before it is stored."""
    roll = k.rng.randrange(9)
    if roll == 5:
        lo, hi = k.scalar(("lo", "clip_lo")), k.scalar(("hi", "clip_hi"))
        lo_t = f"wp.tile_full(shape={t}.shape, value={lo}, dtype=float)"
        hi_t = f"wp.tile_full(shape={t}.shape, value={hi}, dtype=float)"
        # not tile_map(wp.clamp, t, lo, hi): Warp 1.19's C++ cannot deduce a 3-operand tile_map
        # over an overloaded builtin (found by curator verify); min(max(...)) is the same clip
        k.emit(f"{t} = wp.tile_map(wp.min, wp.tile_map(wp.max, {t}, {lo_t}), {hi_t})")
    elif roll == 6:
        k.emit(f"{t} = -{t}")
    elif roll == 7:
        s = k.scalar(("denom", "norm", "scale"))
        k.emit(f"{t} = {t} / wp.tile_full(shape={t}.shape, value={s}, dtype=float)")
    elif roll == 8:
        s = k.scalar(("gain", "weight"))
        k.emit(f"{t} = {t} * wp.tile_full(shape={t}.shape, value={s}, dtype=float)")
    elif roll == 1:
        k.emit(f"{t} = wp.tile_map({_activation(k)}, {t})")
    elif roll == 2:
        k.emit(f"{t} = {t} * {k.scalar(('scale', 'alpha', 'gain'))}")
    elif roll == 3:
        k.emit(f"{t} = wp.tile_map({k.pick(_UNARY_TILE_OPS)}, {t})")
    elif roll == 4:
        lo = k.scalar(("lo", "clip_lo"))
        k.emit(f"{t} = wp.tile_map(wp.max, {t}, wp.tile_full(shape={t}.shape, value={lo}, dtype=float))")


def tile_gemm(k: Kernel) -> None:
    """Blocked matrix multiply: loads along K, tile_matmul accumulation, optional epilogue."""
    _tiled(k)
    tm, tn = _tile_const(k, ("TILE_M", "BLOCK_M")), _tile_const(k, ("TILE_N", "BLOCK_N"))
    tk = _tile_const(k, ("TILE_K", "BLOCK_K"))
    dtype = k.pick(("float", "float", "wp.float64", "wp.float16"))
    batched = not k.tid and k.chance(0.25)  # one GEMM per batch entry: 3-d arrays, A[b] is the batch's matrix
    nd = 3 if batched else 2
    A = k.array(("A", "a", "lhs"), dtype, nd)
    B = k.array(("B", "b", "rhs", "weights"), dtype, nd)
    C = k.array(("C", "c", "out", "res"), "float" if dtype == "wp.float16" else dtype, nd)
    if batched:
        bat = k.fresh("batch", "b", "n")  # a free name: "b" may be the B matrix
        bat, i, j = k.thread(bat, *k.pick((("i", "j"), ("row", "col"), ("bi", "bj"))))
        A, B, C = f"{A}[{bat}]", f"{B}[{bat}]", f"{C}[{bat}]"
    else:
        i, j = k.thread(*k.pick((("i", "j"), ("row", "col"), ("bi", "bj"))))
    acc_t = "float" if dtype == "wp.float16" else dtype
    acc = k.let(("acc", "sum", "c_tile"), f"wp.tile_zeros(shape=({tm}, {tn}), dtype={acc_t})")
    kk = k.fresh("k", "kt", "step")
    if batched or k.chance(0.7):
        count = k.let(("count", "num_k", "n_k"), f"{A}.shape[{nd - 1}] // {tk}")
    else:
        count = k.let(("count", "num_k", "n_k"), f"{k.scalar(('K', 'inner', 'depth'), 'int')} // {tk}")
    shared = ', storage="shared"' if k.chance(0.3) else ""
    with k.block(f"for {kk} in range({count}):"):
        a = k.let(
            ("a", "ta", "a_tile"), f"wp.tile_load({A}, shape=({tm}, {tk}), offset=({i} * {tm}, {kk} * {tk}){shared})"
        )
        transposed = k.chance(0.25)
        if transposed:
            b = k.let(("b", "tb", "b_tile"), f"wp.tile_load({B}, shape=({tn}, {tk}), offset=({j} * {tn}, {kk} * {tk}))")
            b = f"wp.tile_transpose({b})"
        else:
            b = k.let(("b", "tb", "b_tile"), f"wp.tile_load({B}, shape=({tk}, {tn}), offset=({kk} * {tk}, {j} * {tn}))")
        if dtype == "wp.float16":
            k.emit(f"wp.tile_matmul(wp.tile_astype({a}, dtype=float), wp.tile_astype({b}, dtype=float), {acc})")
        elif k.chance(0.3):
            k.emit(f"{acc} += wp.tile_matmul({a}, {b})")
        elif k.chance(0.3):
            alpha = k.scalar(("alpha", "scale"), "float" if dtype == "float" else dtype)
            k.emit(f"wp.tile_matmul({a}, {b}, {acc}, alpha={alpha})")
        else:
            k.emit(f"wp.tile_matmul({a}, {b}, {acc})")
    epi = k.rng.randrange(4) if acc_t == "float" else 0
    if epi == 1:
        for _ in range(k.pick((1, 1, 2, 3))):
            epilogue(k, acc)
    elif epi == 2:
        bias = k.array(("bias", "b_vec"), "float")
        bt = k.let(("bt", "bias_tile"), f"wp.tile_load({bias}, shape={tn}, offset={j} * {tn})")
        k.emit(f"{acc} = {acc} + wp.tile_broadcast({bt}, shape=({tm}, {tn}))")
    elif epi == 3:
        alpha = k.scalar(("alpha", "scale"))
        old = k.let(("c_old", "prev"), f"wp.tile_load({C}, shape=({tm}, {tn}), offset=({i} * {tm}, {j} * {tn}))")
        k.emit(f"wp.tile_axpy({alpha}, {old}, {acc})")
    if acc_t == "float" and epi != 3 and k.chance(0.2):  # C accumulates over several launches
        k.emit(f"wp.tile_atomic_add({C}, {acc}, offset=({i} * {tm}, {j} * {tn}))")
    else:
        k.emit(f"wp.tile_store({C}, {acc}, offset=({i} * {tm}, {j} * {tn}))")


def tile_row_reduce(k: Kernel) -> None:
    """One row per block: load, map, reduce, write one value (store, atomic, or extract)."""
    _tiled(k)
    t_n = _tile_const(k)
    x = k.array(N.IN_F, "float", 2)
    (i,) = k.thread(k.pick(("i", "row", "b")))
    t = k.let(("t", "row_tile", "vals"), f"wp.tile_load({x}[{i}], shape={t_n}{storage(k)})")
    epilogue(k, t)
    form = k.rng.randrange(6)
    if form == 0:
        r = k.let(("s", "total", "r"), f"wp.tile_sum({t})")
    elif form == 1:
        r = k.let(("m", "peak", "r"), f"wp.tile_{k.pick(('max', 'min'))}({t})")
    elif form == 2:
        r = k.let(("r", "red"), f"wp.tile_reduce({k.pick(_REDUCE_OPS)}, {t})")
    elif form == 3:
        w = k.array(N.WEIGHTS, "float")
        wt = k.let(("wt", "w_tile"), f"wp.tile_load({w}, shape={t_n})")
        r = k.let(("r", "dot"), f"wp.tile_dot({t}, {wt})")
    else:
        idx = k.array(("argbest", "best_idx", "winner"), "int")
        a = k.let(("a", "arg"), f"wp.tile_{k.pick(('argmax', 'argmin'))}({t})")
        k.emit(f"wp.tile_store({idx}, {a}, offset={i})")
        r = k.let(("s", "total"), f"wp.tile_sum({t})")
    out = k.array(N.OUT_F, "float")
    how = k.rng.randrange(3)
    if how == 0:
        k.emit(f"wp.tile_store({out}, {r}, offset={i})")
    elif how == 1:
        k.emit(f"wp.tile_atomic_add({out}, {r})")
    else:
        k.emit(f"{out}[{i}] = wp.tile_extract({r}, 0)")


def tile_softmax(k: Kernel) -> None:
    """Numerically stable softmax (or log-sum-exp) along each row."""
    _tiled(k)
    t_n = _tile_const(k, ("N", "COLS", "TILE"))
    x = k.array(("logits", "x", "scores"), "float", 2)
    form = k.rng.choices((0, 1, 2), (0.7, 0.15, 0.15))[0]
    y = k.array(("probs", "y", "out"), "float", 2) if form < 2 else ""
    (i,) = k.thread(k.pick(("i", "row")))
    t = k.let(("t", "row_t"), f"wp.tile_load({x}[{i}], shape={t_n}{storage(k)})")
    if k.chance(0.4):
        k.emit(f"{t} = {t} * {k.scalar(('inv_temp', 'scale', 'beta'))}")
    if k.chance(0.3):
        bias = k.array(("bias", "mask_add", "offsets"), "float")
        k.emit(f"{t} = {t} + wp.tile_load({bias}, shape={t_n})")
    m = k.let(("m", "row_max"), f"wp.tile_max({t})")
    shifted = f"wp.tile_map(wp.sub, {t}, wp.tile_broadcast({m}, shape=({t_n},)))"
    e = k.let(("e", "ex"), f"wp.tile_map(wp.exp, {shifted})")
    z = k.let(("z", "denom"), f"wp.tile_sum({e})")
    if form == 0 and k.chance(0.5):
        p = k.let(("p", "probs_t"), f"wp.tile_map(wp.div, {e}, wp.tile_broadcast({z}, shape=({t_n},)))")
        epilogue(k, p)
        k.emit(f"wp.tile_store({y}[{i}], {p})")
    elif form == 0:
        k.emit(f"wp.tile_store({y}[{i}], wp.tile_map(wp.div, {e}, wp.tile_broadcast({z}, shape=({t_n},))))")
    elif form == 1:
        lse = k.let(("lse", "log_z"), f"wp.log(wp.tile_extract({z}, 0)) + wp.tile_extract({m}, 0)")
        k.emit(f"wp.tile_store({y}[{i}], wp.tile_map(wp.sub, {t}, wp.tile_full({t_n}, {lse}, dtype=float)))")
    else:
        labels = k.array(("labels", "targets", "y_true"), "int")
        loss = k.array(("loss", "nll", "ce"), "float")
        lse = k.let(("lse", "log_z"), f"wp.log(wp.tile_extract({z}, 0)) + wp.tile_extract({m}, 0)")
        k.emit(f"wp.atomic_add({loss}, 0, {lse} - wp.tile_extract({t}, {labels}[{i}]))")


def tile_scan_sort(k: Kernel) -> None:
    """Prefix sums, running extrema and key/value sorts inside a block."""
    _tiled(k)
    t_n = _tile_const(k)
    form = k.rng.randrange(3)
    if form < 2:
        dtype = k.pick(("int", "float"))
        x = k.array(("counts", "x", "values"), dtype)
        out = k.array(("offsets", "prefix", "cumsum"), dtype)
        (i,) = k.thread(k.pick(("i", "b")))
        t = k.let(("t", "vals"), f"wp.tile_load({x}, shape={t_n}, offset={i} * {t_n}{storage(k)})")
        if dtype == "float":
            epilogue(k, t)
        elif k.chance(0.5):
            k.emit(f"{t} = wp.tile_map(wp.min, {t}, wp.tile_full(shape={t}.shape, value=1, dtype=int))")
        else:
            op = k.pick(("&", "|", "^"))
            mask = k.scalar(("mask", "bits", "keep"), "int")
            k.emit(f"{t} = {t} {op} wp.tile_full(shape={t}.shape, value={mask}, dtype=int)")
        fn = k.pick(("scan_inclusive", "scan_exclusive", "scan_max_inclusive", "scan_min_inclusive"))
        s = k.let(("s", "scan"), f"wp.tile_{fn}({t})")
        k.emit(f"wp.tile_store({out}, {s}, offset={i} * {t_n})")
        if form == 1:
            totals = k.array(("block_sums", "totals"), dtype)
            k.emit(f"{totals}[{i}] = wp.tile_extract({s}, {t_n} - 1)")
        return
    keys = k.array(("keys", "depth", "dist"), "float")
    vals = k.array(("values", "ids", "order"), "int")
    (i,) = k.thread(k.pick(("i", "b")))
    kt = k.let(("kt", "key_t"), f"wp.tile_load({keys}, shape={t_n}, offset={i} * {t_n})")
    if k.chance(0.5):
        vt = k.let(("vt", "val_t"), f"wp.tile_load({vals}, shape={t_n}, offset={i} * {t_n})")
    else:
        vt = k.let(("vt", "val_t"), f"wp.tile_arange({t_n}, dtype=int)")
    if k.chance(0.4):
        k.emit(f"{kt} = wp.tile_map(wp.abs, {kt})" if k.chance(0.5) else f"{kt} = {kt} * -1.0")
    k.emit(f"wp.tile_sort({kt}, {vt})")
    k.emit(f"wp.tile_store({keys}, {kt}, offset={i} * {t_n})")
    k.emit(f"wp.tile_store({vals}, {vt}, offset={i} * {t_n})")


def tile_thread_values(k: Kernel) -> None:
    """Per-thread values gathered into a tile (wp.tile / tile_from_thread), reduced, broadcast back."""
    _tiled(k, lane=True)
    x = k.array(N.IN_F, "float")
    out = k.array(N.OUT_F, "float")
    block, lane = k.thread(k.pick(("block", "b", "i")), k.pick(("lane", "t", "thread")))
    idx = k.let(("idx", "gid", "j"), f"{block} * wp.block_dim() + {lane}")
    v = k.let(("v", "val"), "float(0.0)")
    with k.block(f"if {idx} < {x}.shape[0]:"):
        k.emit(f"{v} = {x}[{idx}]")
        post_float(k, v, 1)
    t = k.let(("t", "vt"), f"wp.tile({v})")
    form = k.rng.randrange(3)
    if form == 0:
        m = k.let(("m", "red"), f"wp.tile_{k.pick(('min', 'max', 'sum'))}({t})[0]")
        with k.block(f"if {lane} == 0:"):
            k.emit(f"wp.atomic_{k.pick(('min', 'max', 'add'))}({out}, 0, {m})")
    elif form == 1:
        mean = k.let(("mean", "avg"), f"wp.tile_sum({t})[0] / float(wp.block_dim())")
        with k.block(f"if {idx} < {out}.shape[0]:"):
            k.emit(f"{out}[{idx}] = {v} - {mean}")
    else:
        shape = k.pick(("1", "(1,)"))
        ft = k.let(("ft", "leader"), f"wp.tile_from_thread(shape={shape}, value={v}, thread_idx=0)")
        c = k.let(("c", "shifted"), f"wp.untile({t}) - wp.tile_extract({ft}, 0)")
        with k.block(f"if {idx} < {out}.shape[0]:"):
            k.emit(f"{out}[{idx}] = {c}")
