"""Random sampling, integer hashing and bit tricks, and mixed-precision accumulation motifs."""

from __future__ import annotations

from . import names as N
from .extras import post_float, post_int
from .kernel import Kernel

_SAMPLERS_V3 = (
    "sample_unit_sphere",
    "sample_unit_sphere_surface",
    "sample_unit_hemisphere",
    "sample_unit_hemisphere_surface",
    "sample_unit_cube",
)
_SAMPLERS_V2 = ("sample_unit_disk", "sample_unit_ring", "sample_unit_square", "sample_triangle")


def _rng(k: Kernel, i: str) -> str:
    seed = k.scalar(N.SEED, "int")
    return k.let(
        ("rng", "state", "rs"), f"wp.rand_init({seed}, {i})" if k.chance(0.8) else f"wp.rand_init({seed} + {i})"
    )


def monte_carlo(k: Kernel) -> None:
    """Per-thread random samples: jittered points, directions, Gaussian noise, Poisson counts."""
    (i,) = k.thread(k.pick(("tid", "i")))
    state = _rng(k, i)
    form = k.rng.randrange(5)
    if form == 0:
        out = k.array(("dirs", "samples", "points"), "wp.vec3")
        r = k.scalar(N.RADIUS) if k.chance(0.5) else None
        s = k.let(("s", "d", "dir"), f"wp.{k.pick(_SAMPLERS_V3)}({state})")
        k.emit(f"{out}[{i}] = {s} * {r}" if r else f"{out}[{i}] = {s}")
    elif form == 1:
        out = k.array(("uv", "jitter", "offsets"), "wp.vec2")
        k.emit(f"{out}[{i}] = wp.{k.pick(_SAMPLERS_V2)}({state})")
    elif form == 2:
        x = k.array(N.POS, "wp.vec3")
        sigma = k.scalar(("sigma", "noise_scale", "std"))
        n = k.let(("n", "eps_v"), f"wp.vec3(wp.randn({state}), wp.randn({state}), wp.randn({state}))")
        k.emit(f"{x}[{i}] = {x}[{i}] + {n} * {sigma}")
    elif form == 3:
        lam = k.array(("rate", "lam", "intensity"), "float")
        cnt = k.array(N.COUNT, "int" if k.chance(0.5) else "wp.uint32")
        p = k.let(("p", "events"), f"wp.poisson({state}, {lam}[{i}])")
        k.emit(f"{cnt}[{i}] = {p}" if "uint32" in k.annotation(cnt) else f"{cnt}[{i}] = int({p})")
    else:
        cdf = k.array(("cdf", "weights_cdf"), "float")
        picks = k.array(("picked", "choice", "idx_out"), "int")
        k.emit(f"{picks}[{i}] = wp.sample_cdf({state}, {cdf})")
    if k.chance(0.5):
        accept = k.array(("accept", "mask", "keep"), "int")
        u = k.let(("u", "xi"), f"wp.randf({state})" if k.chance(0.5) else f"wp.randf({state}, 0.0, 1.0)")
        k.emit(f"{accept}[{i}] = wp.where({u} < {k.scalar(('p_accept', 'prob', 'threshold'))}, 1, 0)")
    if k.chance(0.3):
        h = k.array(("hashes", "rand_bits", "keys"), "wp.uint32")
        k.emit(
            f"{h}[{i}] = wp.randu({state})"
            if k.chance(0.5)
            else f"{h}[{i}] = wp.randu({state}, wp.uint32(0), wp.uint32(1024))"
        )
    if k.chance(0.3):
        ids = k.array(("perm", "shuffle", "pick_idx"), "int")
        k.emit(
            f"{ids}[{i}] = wp.randi({state}, 0, {ids}.shape[0])"
            if k.chance(0.5)
            else f"{ids}[{i}] = wp.randi({state}) % {ids}.shape[0]"
        )


def noise_field(k: Kernel) -> None:
    """Procedural noise on a 2-d grid or at points: Perlin, periodic, curl."""
    seed = k.scalar(N.SEED, "int")
    freq = k.scalar(("freq", "frequency", "scale"))
    if k.chance(0.5):
        img = k.array(N.IMG, "float", 2)
        i, j = k.thread(*k.pick((("i", "j"), ("x", "y"))))
        state = k.let(("state", "rng"), f"wp.rand_init({seed})")
        p = k.let(("p", "uv"), f"wp.vec2(float({i}), float({j})) * {freq}")
        form = k.rng.randrange(4)
        if form == 0:
            v = k.let(("v", "n"), f"wp.noise({state}, {p})")
        elif form == 1:
            px, py = k.scalar(("period_x", "px"), "int"), k.scalar(("period_y", "py"), "int")
            v = k.let(("v", "n"), f"wp.pnoise({state}, {p}, {px}, {py})")
        elif form == 2:
            c = k.let(("c", "curl"), f"wp.curlnoise({state}, {p}, wp.uint32(3), 2.0, 0.5)")
            v = k.let(("v", "n"), f"wp.length({c})")
        else:
            r = k.let(("r", "radial"), f"wp.length({p})")
            if k.chance(0.5):
                v = k.let(("v", "n"), f"wp.noise({state}, {r})")
            else:
                v = k.let(("v", "n"), f"wp.pnoise({state}, {r}, {k.scalar(('period', 'px'), 'int')})")
        post_float(k, v, 1)
        k.emit(f"{img}[{i}, {j}] = {v}")
        return
    x = k.array(N.POS, "wp.vec3")
    v = k.array(N.VEL, "wp.vec3")
    (i,) = k.thread(k.pick(("i", "tid")))
    state = k.let(("state", "rng"), f"wp.rand_init({seed})")
    p = k.let(("p", "xs"), f"{x}[{i}] * {freq}")
    octaves = k.pick(("wp.uint32(2)", "wp.uint32(4)", "wp.uint32(3)"))
    if k.chance(0.6):
        c = k.let(("c", "curl"), f"wp.curlnoise({state}, {p}, {octaves}, 2.0, 0.5)")
        k.emit(f"{v}[{i}] = {v}[{i}] + {c} * {k.scalar(('strength', 'amp'))}")
    elif k.chance(0.5):
        t = k.scalar(("time", "t"))
        p4 = k.let(("p4", "xt"), f"wp.vec4({p}[0], {p}[1], {p}[2], {t})")
        form = k.rng.randrange(3)
        if form == 0:
            n = k.let(("n", "val"), f"wp.noise({state}, {p4})")
        elif form == 1:
            periods = ", ".join(k.scalar((f"period_{a}", f"p{a}"), "int") for a in "xyzt")
            n = k.let(("n", "val"), f"wp.pnoise({state}, {p4}, {periods})")
        else:
            c = k.let(("c", "curl"), f"wp.curlnoise({state}, {p4}, wp.uint32(2), 2.0, 0.5)")
            n = k.let(("n", "val"), f"wp.length({c})")
        k.emit(f"{v}[{i}] = {v}[{i}] * (1.0 + {n})")
    else:
        if k.chance(0.5):
            n = k.let(("n", "val"), f"wp.noise({state}, {p})")
        else:
            px, py, pz = (k.scalar((f"period_{a}", f"p{a}"), "int") for a in "xyz")
            n = k.let(("n", "val"), f"wp.pnoise({state}, {p}, {px}, {py}, {pz})")
        k.emit(f"{v}[{i}] = {v}[{i}] + wp.normalize({p}) * {n}")


def hashing(k: Kernel) -> None:
    """Integer hashes (PCG/xorshift), Morton codes, popcounts and bit flags on uint32."""
    (i,) = k.thread(k.pick(("i", "tid")))
    (_hash_steps, _morton_code, _flag_bits)[k.rng.randrange(3)](k, i)


def _hash_steps(k: Kernel, i: str) -> None:
    """A PCG/xorshift hash of a key, some steps written out, and sometimes its popcount."""
    keys = k.array(("keys", "ids", "seeds"), "wp.uint32")
    out = k.array(("hashes", "out", "h_out"), "wp.uint32")
    h = k.let(("h", "x", "state"), f"{keys}[{i}]")
    pcg = f"{h} = {h} * wp.uint32(747796405) + {{inc}}"
    steps = k.rng.sample(
        (
            f"{h} ^= {h} >> wp.uint32(16)",
            f"{h} *= wp.uint32(0x7FEB352D)",
            f"{h} ^= {h} >> wp.uint32(15)",
            f"{h} *= {{mul}}",
            f"{h} ^= {h} << wp.uint32(13)",
            pcg,
        ),
        k.rng.randint(2, 5),
    )
    for s in steps:
        # Constants past 2**31 as typed module constants: an inline wp.uint32(2891336453) is
        # emitted by Warp as a wp::int32 literal that does not fit (then converted).
        if "{inc}" in s:
            s = s.format(inc=k.mod.const(("PCG_INC", "PCG_INCREMENT"), "wp.uint32(2891336453)"))
        elif "{mul}" in s:
            s = s.format(mul=k.mod.const(("HASH_MUL", "MIX_MUL"), "wp.uint32(0x846CA68B)"))
        if " ^= " in s and k.chance(0.4):  # the same step written out, as some code bases do
            s = s.replace(" ^= ", f" = {h} ^ (", 1) + ")"
        k.emit(s)
    k.emit(f"{out}[{i}] = {h}")
    if k.chance(0.5):
        bits = k.array(("popcount", "ones", "nbits"), "int")
        k.emit(f"{bits}[{i}] = int(wp.bit_count({h}))")


def _morton_code(k: Kernel, i: str) -> None:
    """A 30-bit Morton code of a point's grid cell, bit by bit."""
    pts = k.array(N.POS, "wp.vec3")
    codes = k.array(("codes", "morton", "keys"), "int")
    inv = k.scalar(("inv_cell", "inv_h", "scale"))
    c = k.let(("c", "cell"), f"{pts}[{i}] * {inv}")
    parts = []
    for n, ax in enumerate("xyz"):
        parts.append(k.let((ax, f"{ax}i", f"c{ax}"), f"wp.clamp(int({c}[{n}]), 0, 1023)"))
    code = k.let(("code", "m"), "int(0)")
    b = k.fresh("b", "bit")
    bits = "10"
    if k.chance(0.5):
        bits = f"wp.static({k.mod.const(('BITS_PER_AXIS', 'LEVELS', 'DEPTH'), '10')})"
    with k.block(f"for {b} in range({bits}):"):
        for n, v in enumerate(parts):
            k.emit(f"{code} |= (({v} >> {b}) & 1) << (3 * {b} + {n})")
    post_int(k, code)
    k.emit(f"{codes}[{i}] = {code}")


def _flag_bits(k: Kernel, i: str) -> None:
    """State flags toggled with masks."""
    flags = k.array(("flags", "state_bits", "mask"), "int")
    f = k.let(("f", "bits"), f"{flags}[{i}]")
    post_int(k, f, 1)
    active = k.let(("active", "is_on"), f"({f} & 1) != 0")
    with k.block(f"if {active} and not (({f} >> 2) & 1):"):
        k.emit(f"{f} = ({f} | 4) ^ 2")
    with k.block("else:"):
        k.emit(f"{f} &= ~1")
    k.emit(f"{flags}[{i}] = {f}")


def mixed_precision(k: Kernel) -> None:
    """Half-precision storage, single-precision math, double-precision accumulation."""
    store = k.pick(("wp.float16", "float", "wp.float16"))
    x = k.array(N.IN_F, store)
    (i,) = k.thread(k.pick(("i", "tid")))
    v = k.let(("v", "xf"), f"float({x}[{i}])" if store != "float" else f"{x}[{i}]")
    post_float(k, v)
    form = k.rng.randrange(3)
    if form == 0:
        total = k.array(N.ENERGY, "wp.float64")
        k.emit(f"wp.atomic_add({total}, 0, wp.float64({v}))")
    elif form == 1:
        out = k.array(N.OUT_F, "wp.float64")
        d = k.let(("d", "acc"), f"wp.float64({v}) * wp.float64({k.scalar(('scale', 'gain'))})")
        k.emit(f"{out}[{i}] = {d} + wp.float64(1.0e-12)")
    else:
        out = k.array(N.OUT_F, "wp.float16")
        k.emit(f"{out}[{i}] = wp.float16({v} * {k.scalar(('scale', 'gain'))})")
    if k.chance(0.4):
        signed = k.chance(0.5)
        q = k.array(("quantized", "q", "codes"), "wp.int8" if signed else "wp.uint8")
        if signed:
            k.emit(f"{q}[{i}] = wp.int8(wp.clamp({v} * 127.0, -127.0, 127.0))")
        else:
            k.emit(f"{q}[{i}] = wp.uint8(wp.clamp({v} * 255.0, 0.0, 255.0))")


def bit_packing(k: Kernel) -> None:
    """Pack small fields into one word and unpack them again (colours, voxel keys, flags)."""
    (i,) = k.thread(k.pick(("i", "tid")))
    form = k.rng.randrange(3)
    if form == 0:
        rgba = k.array(("color", "rgba", "pixels"), "wp.vec4")
        packed = k.array(("packed", "words", "out"), "wp.uint32")
        c = k.let(("c", "col"), f"{rgba}[{i}]")
        if k.chance(0.4):
            k.emit(f"{c} = wp.cw_mul({c}, {k.param(('tint', 'color_scale'), 'wp.vec4')})")
        if k.chance(0.4):
            k.emit(f"{c} = {c} * {k.scalar(('exposure', 'gain'))}")
        parts = [
            k.let((f"{ch}", f"{ch}8"), f"wp.uint32(wp.clamp({c}[{n}], 0.0, 1.0) * 255.0)")
            for n, ch in enumerate("rgba")
        ]
        k.emit(
            f"{packed}[{i}] = {parts[0]} | ({parts[1]} << wp.uint32(8)) | ({parts[2]} << wp.uint32(16)) | "
            f"({parts[3]} << wp.uint32(24))"
        )
    elif form == 1:
        packed = k.array(("packed", "keys", "codes"), "wp.uint32")
        out = k.array(("fields", "unpacked", "coords"), "wp.vec3i")
        w = k.let(("w", "word"), f"{packed}[{i}]")
        bits = k.pick(("10", "8", "11"))
        mask = {"10": "0x3FF", "8": "0xFF", "11": "0x7FF"}[bits]
        xs = [
            k.let((f"{a}", f"{a}_bits"), f"int(({w} >> wp.uint32({n * int(bits)})) & wp.uint32({mask}))")
            for n, a in enumerate("xyz")
        ]
        post_int(k, xs[k.rng.randrange(3)], 1)
        c = k.let(("c", "cell", "coords"), f"wp.vec3i({xs[0]}, {xs[1]}, {xs[2]})")
        if k.chance(0.6):
            op = k.pick(("&", "|", "^", ">>", "<<", "%"))
            k.emit(f"{c} = {c} {op} {k.param(('mask_v', 'shift_v', 'wrap'), 'wp.vec3i')}")
        elif k.chance(0.3):
            k.emit(f"{c} = ~{c}")
        k.emit(f"{out}[{i}] = {c}")
    else:
        v = k.array(("values", "x", "keys"), "int")
        out = k.array(("gray", "codes", "out"), "int")
        x = k.let(("x", "v"), f"{v}[{i}]")
        post_int(k, x, 1)
        g = k.let(("g", "code"), f"{x} ^ ({x} >> 1)")
        if k.chance(0.5):
            r = k.let(("r", "rev"), "int(0)")
            b = k.fresh("b", "bit")
            nbits = k.mod.const(("NUM_BITS", "BITS", "KEY_BITS"), "16")
            with k.block(f"for {b} in range(wp.static({nbits})):"):
                k.emit(f"{r} = ({r} << 1) | (({g} >> {b}) & 1)")
            k.emit(f"{out}[{i}] = {r}")
        elif k.chance(0.5):
            k.emit(f"{out}[{i}] = wp.where({x} & 1, {g}, -{g})")
        else:
            k.emit(f"{out}[{i}] = {g} & ~(1 << ({i} % 16))")


def xorshift_stream(k: Kernel) -> None:
    """A per-thread xorshift32 state advanced a few times and turned into uniform floats."""
    states = k.array(("states", "rng_state", "seeds"), "wp.uint32")
    out = k.array(("samples", "u", "noise"), "float")
    steps = k.scalar(("steps", "n_draws"), "int") if k.chance(0.5) else None
    (i,) = k.thread(k.pick(("i", "tid")))
    s = k.let(("s", "state", "x"), f"{states}[{i}]")
    acc = k.let(N.ACC, "float(0.0)")
    loop = f"for _ in range({steps}):" if steps else f"for _ in range({k.rng.randint(2, 4)}):"
    with k.block(loop):
        k.emit(f"{s} ^= {s} << wp.uint32(13)")
        k.emit(f"{s} ^= {s} >> wp.uint32(17)")
        k.emit(f"{s} ^= {s} << wp.uint32(5)")
        k.emit(f"{acc} += float({s}) * 2.3283064e-10")
    k.emit(f"{states}[{i}] = {s}")
    post_float(k, acc)
    k.emit(f"{out}[{i}] = {acc}")


def radix_histogram(k: Kernel) -> None:
    """One pass of a radix sort: extract a digit from each key and count it."""
    keys = k.array(("keys", "codes", "morton"), k.pick(("int", "wp.uint32")))
    unsigned = "uint32" in k.annotation(keys)
    hist = k.array(("hist", "counts", "bucket_count"), "int")
    shift = k.scalar(("shift", "pass_shift", "bit_offset"), "int")
    (i,) = k.thread(k.pick(("i", "tid")))
    key = k.let(("key", "c"), f"{keys}[{i}]")
    if unsigned:
        digit = k.let(("digit", "d", "bucket"), f"int(({key} >> wp.uint32({shift})) & wp.uint32(0xFF))")
    else:
        digit = k.let(("digit", "d", "bucket"), f"({key} >> {shift}) & 0xFF")
    post_int(k, digit, 1)
    k.emit(f"wp.atomic_add({hist}, {digit}, 1)")
    if k.chance(0.5):
        digits = k.array(("digits", "bucket_of", "d_out"), "int")
        k.emit(f"{digits}[{i}] = {digit}")
    if k.chance(0.3):
        flags = k.array(("seen", "present", "bitset"), "int")
        k.emit(f"wp.atomic_or({flags}, {digit} // 32, 1 << ({digit} % 32))")
