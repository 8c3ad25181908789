"""Interchangeable builtins for the math slots of motifs, grouped by what their inputs may be."""

from __future__ import annotations

from .kernel import Kernel

# f(x) for any real x.
ANY_UNARY = (
    "wp.sin({x})",
    "wp.cos({x})",
    "wp.tanh({x})",
    "wp.atan({x})",
    "wp.erf({x})",
    "wp.erfc({x})",
    "wp.cbrt({x})",
    "wp.floor({x})",
    "wp.ceil({x})",
    "wp.round({x})",
    "wp.rint({x})",
    "wp.trunc({x})",
    "wp.frac({x})",
    "wp.sign({x})",
    "wp.abs({x})",
    "wp.degrees({x})",
    "wp.radians({x})",
    "wp.sinh({x})",
    "wp.cosh({x})",
    "wp.exp(-{x})",
    "wp.step({x})",
    "wp.tan({x})",
)
# f(x) for x >= 0 (lengths, squared norms, masses).
POS_UNARY = ("wp.sqrt({x})", "wp.log(1.0 + {x})", "wp.log2(1.0 + {x})", "wp.log10(1.0 + {x})", "wp.exp(-{x})")
# f(c) for c in [-1, 1] (cosines of unit vectors).
UNIT_UNARY = ("wp.acos({x})", "wp.asin({x})", "wp.erfinv({x} * 0.99)", "wp.atan({x})", "wp.erfcinv(1.0 + {x} * 0.99)")
BINARY = ("wp.min({x}, {y})", "wp.max({x}, {y})", "wp.atan2({x}, {y})", "wp.copysign({x}, {y})")
# Smooth falloffs of a distance ``r`` against a radius ``h`` (SPH kernels, soft contacts).
FALLOFF = (
    "wp.max(1.0 - {r} / {h}, 0.0)",
    "wp.exp(-(({r} / {h}) ** 2.0))",
    "wp.smoothstep({h}, 0.0, {r})",
    "wp.pow(wp.max({h} - {r}, 0.0), 3.0)",
    "1.0 - wp.clamp({r} / {h}, 0.0, 1.0)",
    "wp.lerp(1.0, 0.0, wp.min({r} / {h}, 1.0))",
    "wp.where({r} < {h}, 1.0 - {r} / {h}, 0.0)",
)
PREDICATES = ("wp.isfinite({x})", "not wp.isnan({x})", "not wp.isinf({x})")
# Norms and measures of a vec3 ``v``.
VEC_MEASURE = (
    "wp.length({v})",
    "wp.length_sq({v})",
    "wp.norm_l1({v})",
    "wp.norm_l2({v})",
    "wp.norm_huber({v})",
    "wp.norm_pseudo_huber({v})",
    "wp.max({v})",
    "wp.min({v})",
)
VEC_DIRECTION = ("wp.normalize({v})", "wp.smooth_normalize({v})")
VEC_ELEMENTWISE = ("wp.abs({v})", "wp.sign({v})", "wp.cw_mul({v}, {w})", "wp.cw_div({v}, {w})")


def fill(template: str, **values: str) -> str:
    return template.format(**values)


def any_unary(k: Kernel, x: str) -> str:
    return k.pick(ANY_UNARY).format(x=x)


def pos_unary(k: Kernel, x: str) -> str:
    return k.pick(POS_UNARY).format(x=x)


def unit_unary(k: Kernel, x: str) -> str:
    return k.pick(UNIT_UNARY).format(x=x)


def binary(k: Kernel, x: str, y: str) -> str:
    return k.pick(BINARY).format(x=x, y=y)


def falloff(k: Kernel, r: str, h: str) -> str:
    """A falloff term, parenthesised when it is a sum so it can be multiplied as is."""
    text = k.pick(FALLOFF).format(r=r, h=h)
    return text if text.startswith("wp.") else f"({text})"


def measure(k: Kernel, v: str) -> str:
    return k.pick(VEC_MEASURE).format(v=v)


def direction(k: Kernel, v: str) -> str:
    return k.pick(VEC_DIRECTION).format(v=v)


MONOTONE = ("{x} ** 2.0", "wp.exp({x})", "{x} ** 3.0", "wp.sinh({x})", "{x} + wp.sqrt({x})", "wp.log(1.0 + {x})")


def pick_monotone(k: Kernel, x: str) -> str:
    """An increasing function of ``x >= 0`` (bisection targets)."""
    return k.pick(MONOTONE).format(x=x)
