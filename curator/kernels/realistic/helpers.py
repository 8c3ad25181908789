"""A library of @wp.func helpers real code defines: SDF primitives, closest points, smooth minima."""

from __future__ import annotations

from .kernel import Kernel
from .writer import IND

# name -> (signature, body lines, returns, result kind); "{eps}" is filled per use.
_HELPERS = {
    "sdf_sphere": ("(p: wp.vec3, r: float) -> float", ["return wp.length(p) - r"], "float"),
    "sdf_box": (
        "(p: wp.vec3, half: wp.vec3) -> float",
        [
            "q = wp.abs(p) - half",
            "outside = wp.length(wp.max(q, wp.vec3(0.0)))",
            "return outside + wp.min(wp.max(q[0], wp.max(q[1], q[2])), 0.0)",
        ],
        "float",
    ),
    "sdf_capsule": (
        "(p: wp.vec3, r: float, half_height: float) -> float",
        ["y = wp.clamp(p[1], -half_height, half_height)", "return wp.length(p - wp.vec3(0.0, y, 0.0)) - r"],
        "float",
    ),
    "sdf_torus": (
        "(p: wp.vec3, ring: float, tube: float) -> float",
        ["q = wp.vec2(wp.length(wp.vec2(p[0], p[2])) - ring, p[1])", "return wp.length(q) - tube"],
        "float",
    ),
    "smooth_min": (
        "(a: float, b: float, k: float) -> float",
        ["h = wp.clamp(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)", "return wp.lerp(b, a, h) - k * h * (1.0 - h)"],
        "float",
    ),
}
# Helpers with several return values: name -> (signature, body, return types).
_MULTI = {
    "closest_point_segment": (
        "(p: wp.vec3, a: wp.vec3, b: wp.vec3)",
        [
            "ab = b - a",
            "t = wp.clamp(wp.dot(p - a, ab) / wp.max(wp.length_sq(ab), {eps}), 0.0, 1.0)",
            "return a + ab * t, t",
        ],
        ("wp.vec3", "float"),
    ),
    "contact_frame": (
        "(n: wp.vec3)",
        [
            "t = wp.cross(n, wp.vec3(0.0, 1.0, 0.0))",
            "if wp.length_sq(t) < {eps}:",
            IND + "t = wp.cross(n, wp.vec3(1.0, 0.0, 0.0))",
            "t = wp.normalize(t)",
            "return t, wp.cross(n, t)",
        ],
        ("wp.vec3", "wp.vec3"),
    ),
    "split_speed": (
        "(v: wp.vec3, n: wp.vec3)",
        ["vn = wp.dot(v, n)", "vt = v - n * vn", "return vn, vt"],
        ("float", "wp.vec3"),
    ),
}


def define(k: Kernel, name: str, eps: str = "1e-8") -> str:
    """Write helper ``name`` into the module (once) and return its module-level name."""
    if name in k.mod.taken:
        return name
    k.mod.taken.add(name)
    sig, body, _ = _HELPERS.get(name) or _MULTI[name]
    lines = ["@wp.func", f"def {name}{sig}:", *(IND + b.format(eps=eps) for b in body)]
    k.mod.block(lines)
    return name


SDF_PRIMS = ("sdf_sphere", "sdf_box", "sdf_capsule", "sdf_torus")
MULTI = tuple(_MULTI)


def sdf_call(k: Kernel, name: str, p: str) -> str:
    """A call of SDF helper ``name`` at point ``p`` with shape parameters from kernel parameters."""
    define(k, name)
    if name == "sdf_sphere":
        return f"{name}({p}, {k.scalar(('radius', 'r', 'sphere_r'))})"
    if name == "sdf_box":
        return f"{name}({p}, {k.param(('half_extents', 'half', 'box_half'), 'wp.vec3')})"
    if name == "sdf_capsule":
        return f"{name}({p}, {k.scalar(('capsule_r', 'radius', 'r'))}, {k.scalar(('half_height', 'hh'))})"
    return f"{name}({p}, {k.scalar(('ring', 'major_r'))}, {k.scalar(('tube', 'minor_r'))})"
