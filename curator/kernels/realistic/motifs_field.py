"""Field motifs: NanoVDB volume sampling/lookup/store, SDF collisions, and texture sampling."""

from __future__ import annotations

from . import names as N
from . import slots
from .extras import post_float, post_int, post_vec
from .kernel import Kernel

_MODES = ("wp.Volume.LINEAR", "wp.Volume.CLOSEST")


def volume_sdf_collision(k: Kernel) -> None:
    """Particles against an SDF volume: world->index, sample with gradient, push out along the normal."""
    vol = k.param(N.VOLUME, "wp.uint64")
    x = k.array(N.POS, "wp.vec3")
    margin = k.scalar(("margin", "thickness", "radius"))
    (i,) = k.thread(k.pick(("tid", "i")))
    p = k.let(("p", "x0"), f"{x}[{i}]")
    uvw = k.let(("uvw", "ijk", "p_index"), f"wp.volume_world_to_index({vol}, {p})")
    mode = k.pick(_MODES)
    g = k.let(("grad", "g", "dphi"), "wp.vec3()")
    form = k.rng.randrange(3)
    if form == 0:
        d = k.let(("d", "phi", "sdf"), f"wp.volume_sample_grad_f({vol}, {uvw}, {mode}, {g})")
    elif form == 1:
        d = k.let(("d", "phi", "sdf"), f"wp.volume_sample_grad({vol}, {uvw}, {mode}, {g}, dtype=float)")
    else:
        data = k.array(("voxel_data", "values", "leaf_values"), "float")
        bg = k.scalar(("background", "bg"))
        d = k.let(("d", "phi"), f"wp.volume_sample_grad_index({vol}, {uvw}, {mode}, {data}, {bg}, {g})")
    post_float(k, d, 1)
    with k.block(f"if {d} < {margin}:"):
        n = k.let(N.DIR, f"wp.normalize(wp.volume_index_to_world_dir({vol}, {g}))")
        k.emit(f"{x}[{i}] = {p} + {n} * ({margin} - {d})")
        if k.chance(0.3):
            v = k.array(N.VEL, "wp.vec3")
            v_idx = k.let(("v_index", "v_ijk"), f"wp.volume_world_to_index_dir({vol}, {v}[{i}])")
            k.emit(f"{v}[{i}] = wp.volume_index_to_world_dir({vol}, {v_idx} - {g} * wp.min(wp.dot({v_idx}, {g}), 0.0))")
        elif k.chance(0.5):
            v = k.array(N.VEL, "wp.vec3")
            vn = k.let(("vn", "v_n"), f"wp.dot({v}[{i}], {n})")
            with k.block(f"if {vn} < 0.0:"):
                k.emit(f"{v}[{i}] = {v}[{i}] - {n} * {vn}")


def volume_sample_points(k: Kernel) -> None:
    """Sample scalar, vector or index volumes at world points and write the results."""
    vol = k.param(N.VOLUME, "wp.uint64")
    pts = k.array(N.POS, "wp.vec3")
    (i,) = k.thread(k.pick(("tid", "i")))
    uvw = k.let(("uvw", "q"), f"wp.volume_world_to_index({vol}, {pts}[{i}])")
    post_vec(k, uvw, None, 1)
    mode = k.pick(_MODES)
    form = k.rng.randrange(6)
    if form == 0:
        out = k.array(("values", "density", "samples"), "float")
        s = k.let(("s", "rho", "val"), f"wp.volume_sample_f({vol}, {uvw}, {mode})")
        post_float(k, s)
        k.emit(f"{out}[{i}] = {s}")
    elif form == 1:
        out = k.array(("vel", "flow", "wind"), "wp.vec3")
        v = k.let(("u", "vs"), f"wp.volume_sample_v({vol}, {uvw}, {mode})")
        post_vec(k, v)
        k.emit(f"{out}[{i}] = {v} * {k.scalar(('scale', 'gain'))}")
    elif form == 2:
        out = k.array(("labels", "material_id", "ids"), "int")
        k.emit(f"{out}[{i}] = wp.volume_sample_i({vol}, {uvw})")
    elif form == 3:
        dtype = k.pick(("float", "wp.vec3"))
        out = k.array(("samples", "out"), dtype)
        k.emit(f"{out}[{i}] = wp.volume_sample({vol}, {uvw}, {mode}, dtype={dtype})")
    elif form == 4:
        data = k.array(("voxel_data", "leaf_values"), "float")
        out = k.array(("samples", "out"), "float")
        k.emit(f"{out}[{i}] = wp.volume_sample_index({vol}, {uvw}, {mode}, {data}, {k.scalar(('background', 'bg'))})")
    else:
        out = k.array(("world", "x_world"), "wp.vec3")
        k.emit(f"{out}[{i}] = wp.volume_index_to_world({vol}, {uvw} + wp.vec3(0.5))")


def volume_voxels(k: Kernel) -> None:
    """A 3-d launch over voxels: lookups of neighbours, a filter, and a store into another volume."""
    src = k.param(("src_volume", "volume", "field_in"), "wp.uint64")
    dst = k.param(("dst_volume", "out_volume", "field_out"), "wp.uint64")
    i, j, kk = k.thread(*k.pick((("i", "j", "k"), ("x", "y", "z"))))
    kind = k.pick(("f", "f", "i", "v", "generic"))
    if kind == "f":
        c = k.let(("c", "center"), f"wp.volume_lookup_f({src}, {i}, {j}, {kk})")
        pairs = (
            (f"{i} + 1, {j}, {kk}", f"{i} - 1, {j}, {kk}"),
            (f"{i}, {j} + 1, {kk}", f"{i}, {j} - 1, {kk}"),
            (f"{i}, {j}, {kk} + 1", f"{i}, {j}, {kk} - 1"),
        )
        axes = k.rng.sample(pairs, k.rng.randint(1, 3))
        nb = k.let(("nb", "sum_n"), f"wp.volume_lookup_f({src}, {axes[0][0]})")
        for n, (a, b) in enumerate(axes):
            if n:
                k.emit(f"{nb} += wp.volume_lookup_f({src}, {a})")
            k.emit(f"{nb} += wp.volume_lookup_f({src}, {b})")
        rate = k.scalar(("alpha", "rate"))
        val = k.let(("val", "v"), f"{c} + {rate} * ({nb} - {float(2 * len(axes))} * {c})")
        post_float(k, val)
        k.emit(f"wp.volume_store_f({dst}, {i}, {j}, {kk}, {slots.any_unary(k, val) if k.chance(0.3) else val})")
    elif kind == "i":
        c = k.let(("c", "label"), f"wp.volume_lookup_i({src}, {i}, {j}, {kk})")
        post_int(k, c)
        k.emit(f"wp.volume_store_i({dst}, {i}, {j}, {kk}, wp.where({c} > 0, {c}, -1))")
    elif kind == "v":
        c = k.let(("u", "vel"), f"wp.volume_lookup_v({src}, {i}, {j}, {kk})")
        post_vec(k, c)
        k.emit(f"wp.volume_store_v({dst}, {i}, {j}, {kk}, {c} * {k.num(0.5, 0.99)})")
    else:
        dtype = k.pick(("float", "int"))
        c = k.let(("c", "val"), f"wp.volume_lookup({src}, {i}, {j}, {kk}, dtype={dtype})")
        (post_float if dtype == "float" else post_int)(k, c)
        k.emit(f"wp.volume_store({dst}, {i}, {j}, {kk}, {c})")
    if k.chance(0.3):
        pos = k.array(("centers", "world_pos", "voxel_pos"), "wp.vec3", 3)
        k.emit(f"{pos}[{i}, {j}, {kk}] = wp.volume_index_to_world({src}, wp.vec3(float({i}), float({j}), float({kk})))")
    if k.chance(0.4):
        occ = k.array(("occupancy", "active", "index_out"), "int")
        idx = k.let(("idx", "vox"), f"wp.volume_lookup_index({src}, {i}, {j}, {kk})")
        with k.block(f"if {idx} < wp.int32(wp.volume_voxel_count({src})):"):
            k.emit(f"wp.atomic_add({occ}, 0, 1)")


def texture_lookup(k: Kernel) -> None:
    """Texture fetches at per-thread coordinates (1-d ramps, 2-d images, 3-d grids)."""
    dims = k.pick((1, 2, 2, 3))
    tex = k.param(("tex", "texture", "lut", "albedo"), f"wp.Texture{dims}D")
    dtype = k.pick(("float", "wp.vec4", "wp.vec2"))
    out = k.array(("out", "color", "samples"), dtype)
    if dims == 1:
        (i,) = k.thread("i")
        u = k.let(("u", "t"), f"float({i}) / float({out}.shape[0])")
        k.emit(f"{out}[{i}] = wp.texture_sample({tex}, {u}, dtype={dtype})")
        return
    if dims == 2:
        uv = k.array(("uv", "texcoords", "coords"), "wp.vec2")
        (i,) = k.thread("i")
        c = k.let(("c", "st"), f"{uv}[{i}]")
        if k.chance(0.5):
            k.emit(f"{out}[{i}] = wp.texture_sample({tex}, {c}, dtype={dtype})")
        else:
            k.emit(f"{out}[{i}] = wp.texture_sample({tex}, {c}[0], {c}[1], dtype={dtype})")
        return
    pts = k.array(N.POS, "wp.vec3")
    (i,) = k.thread("i")
    p = k.let(("p", "uvw"), f"{pts}[{i}]")
    if k.chance(0.5):
        k.emit(f"{out}[{i}] = wp.texture_sample({tex}, {p}, dtype={dtype})")
    else:
        k.emit(f"{out}[{i}] = wp.texture_sample({tex}, {p}[0], {p}[1], {p}[2], dtype={dtype})")
