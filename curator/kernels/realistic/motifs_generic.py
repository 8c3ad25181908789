"""Generic Warp code: @wp.func helpers over typing.Any, and kernel bodies valid for every dtype a
kernel is built for (generic ``Any`` kernels with ``wp.overload``, kernels a factory makes per dtype).

Every operation here was checked with Warp 1.19 for the dtypes it is used with: ``+``, ``-``,
negation, scaling by a scalar, ``wp.lerp``, ``wp.where``, ``type(t)(c)`` constants and atomic adds
for all of them; ``wp.abs``/``wp.min``/``wp.max`` not for matrices.  In-place component writes of
a local (``v[c] = ...``) compile for vectors and matrices but Warp's tape gets them wrong: unused.
"""

from __future__ import annotations

from .kernel import Kernel
from .writer import IND

_CONCRETE = (
    ("float", "float"),
    ("wp.float64", "wp.float64"),
    ("wp.vec3", "float"),
    ("wp.vec2", "float"),
    ("wp.vec3d", "wp.float64"),
    ("wp.vec4", "float"),
    ("wp.float16", "wp.float16"),
    ("wp.mat22", "float"),
)
_SCALARS = ("float", "wp.float64", "wp.float16")

# Generic helpers by call shape: (name pool, parameters, body, needs elementwise min/max/abs).
# "abt": f(a, b, t) -> like a; "at": f(x, s) -> like x; "lcr": f(left, centre, right, w) -> like centre.
_HELPERS = {
    "abt": (
        (("blend", "mix_values"), "a: Any, b: Any, t: Any", ["return a + (b - a) * t"], False),
        (("relax", "move_toward"), "a: Any, b: Any, t: Any", ["d = b - a", "return a + d * t"], False),
        (("interpolate", "mix_any"), "a: Any, b: Any, t: Any", ["return a * (type(t)(1.0) - t) + b * t"], False),
        (("lerp_any", "blend"), "a: Any, b: Any, t: Any", ["return wp.lerp(a, b, t)"], False),
        (("axpy_any", "scale_add"), "x: Any, y: Any, alpha: Any", ["return x * alpha + y"], False),
        (
            ("smooth_mix", "ease_mix"),
            "a: Any, b: Any, t: Any",
            ["s = t * (type(t)(3.0) - type(t)(2.0) * t) * t", "return a + (b - a) * s"],
            False,
        ),
        (
            ("clamped_lerp", "safe_lerp"),
            "a: Any, b: Any, t: Any",
            ["s = wp.clamp(t, type(t)(0.0), type(t)(1.0))", "return wp.lerp(a, b, s)"],
            False,
        ),
        (("select_by_sign", "pick_side"), "a: Any, b: Any, t: Any", ["return wp.where(t > type(t)(0.0), a, b)"], False),
        (
            ("range_mix", "span_lerp"),
            "a: Any, b: Any, t: Any",
            ["hi = wp.max(a, b)", "lo = wp.min(a, b)", "return lo + (hi - lo) * t"],
            True,
        ),
        (("abs_step", "l1_step"), "a: Any, b: Any, t: Any", ["return a + wp.abs(b - a) * t"], True),
    ),
    "at": (
        (("scaled", "scale_by"), "x: Any, s: Any", ["return x * s"], False),
        (("damp", "decay"), "x: Any, s: Any", ["return x - x * s"], False),
        (
            ("shrink", "soft_shrink"),
            "x: Any, s: Any",
            ["return x * (type(s)(1.0) / (type(s)(1.0) + wp.abs(s)))"],
            False,
        ),
        (("half_step", "nudge"), "x: Any, s: Any", ["h = s * type(s)(0.5)", "return x + x * h"], False),
        (("magnitude_scale", "abs_scale"), "x: Any, s: Any", ["return wp.abs(x) * s"], True),
    ),
    "lcr": (
        (
            ("laplacian", "diffuse"),
            "l: Any, c: Any, r: Any, w: Any",
            ["return c + (l + r - c * type(w)(2.0)) * w"],
            False,
        ),
        (
            ("smooth3", "average3"),
            "l: Any, c: Any, r: Any, w: Any",
            ["avg = (l + r) * type(w)(0.5)", "return c + (avg - c) * w"],
            False,
        ),
        (
            ("upwind", "advect_step"),
            "l: Any, c: Any, r: Any, w: Any",
            ["return c - (c - l) * w + (r - c) * (w * type(w)(0.5))"],
            False,
        ),
        (
            ("limit3", "clamp_between"),
            "l: Any, c: Any, r: Any, w: Any",
            ["lo = wp.min(l, r)", "hi = wp.max(l, r)", "return wp.min(wp.max(c, lo), hi) * w"],
            True,
        ),
    ),
}


def family(dtype: str) -> str:
    return "scalar" if dtype in _SCALARS else "matrix" if "mat" in dtype else "vector"


def define_helper(k: Kernel, shape: str, elementwise: bool) -> str:
    """Write a generic helper of call shape ``shape`` into the module; returns its name."""
    k.mod.need_any()
    forms = [h for h in _HELPERS[shape] if elementwise or not h[3]]
    pool, params, body, _ = k.pick(forms)
    name = k.mod.name(*pool)
    k.mod.block(["@wp.func", f"def {name}({params}):", *(IND + line for line in body)])
    return name


class _Lazy:
    """Expression text whose parameters are made when it is first written into the body."""

    def __init__(self, make):
        self.make = make

    def __format__(self, spec: str) -> str:
        return format(self.make(), spec)


class GenericBody:
    """Writes a kernel body over one element type, the same text for every dtype it is built for.

    ``array``/``scalar`` are how parameters are annotated (``Any``, or a factory's type names);
    ``factory`` collects a factory's Python-time parameters (loop counts, a helper, flags) as
    (signature, value) pairs, or is None for a generic kernel (module constants instead)."""

    def __init__(
        self,
        k: Kernel,
        array: str,
        scalar: str,
        elementwise: bool,
        const: str = "type({t})({c})",
        factory: list | None = None,
    ):
        self.k = k
        self.array_ann, self.scalar_ann = array, scalar
        self.elementwise = elementwise
        self.const = const
        self.factory = factory
        self._t: str | None = None
        self._b: str | None = None
        self._out: str | None = None
        self._helpers: dict[str, str] = {}
        self._counts: dict[str, tuple[str, str]] = {}

    # -- parameters, made when first used (so every one is read) --------------------------------
    def arr(self, pool) -> str:
        if self.array_ann == "Any":
            return self.k.param(pool, "wp.array(dtype=Any)")
        return self.k.array(pool, self.array_ann)

    @property
    def t(self) -> str:
        if self._t is None:
            self._t = self.k.param(("t", "alpha", "weight", "s"), self.scalar_ann)
        return self._t

    @property
    def b(self) -> str:
        if self._b is None:
            self._b = self.arr(("b", "y", "target", "other"))
        return self._b

    @property
    def out(self) -> str:
        if self._out is None:
            self._out = self.arr(("out", "dst", "res", "result"))
        return self._out

    def c(self, value: str) -> str:
        """A constant of the scalar type."""
        return self.const.format(t=self.t, c=value)

    def helper(self, shape: str) -> str:
        """The name to call a helper of ``shape`` by (a factory may take it as a parameter)."""
        if shape not in self._helpers:
            name = define_helper(self.k, shape, self.elementwise)
            if self.factory is not None and not any(s.startswith("op") for s, _ in self.factory) and self.k.chance(0.5):
                self.factory.append(("op", name))
                name = "op"
            self._helpers[shape] = name
        return self._helpers[shape]

    def count(self, role: str) -> tuple[str, str]:
        """(how a loop bound is written, how its value is written as a scalar) for ``role``."""
        if role not in self._counts:
            k = self.k
            value = str(k.rng.randint(2, 5))
            if self.factory is not None:
                name = {"iters": k.pick(("iters", "num_iters", "passes")), "width": k.pick(("width", "radius"))}[role]
                self.factory.append((f"{name}: int", value))
                self._counts[role] = (f"wp.static({name})" if k.chance(0.5) else name, name)
            elif k.chance(0.5):
                pool = {"iters": ("NUM_ITERS", "ITERATIONS", "SMOOTH_STEPS"), "width": ("WIDTH", "WINDOW")}[role]
                const = k.mod.const(pool, value)
                self._counts[role] = (const, const)
            else:
                self._counts[role] = (value, f"{value}.0")
        return self._counts[role]

    def flag(self, pool) -> str | None:
        """``wp.static(flag)`` of a factory's bool parameter, or None outside factories."""
        if self.factory is None:
            return None
        name = self.k.pick(pool)
        self.factory.append((f"{name}: bool", str(self.k.chance(0.7))))
        return f"wp.static({name})"

    # -- the body -----------------------------------------------------------------------------
    def write(self) -> None:
        k = self.k
        a = self.arr(("a", "x", "src", "values"))
        (i,) = k.thread(k.pick(("i", "tid")))
        load = k.pick(("elem", "elem", "gather", "stencil", "window", "pair"))
        idx = None
        if load == "elem":
            v = k.let(("v", "va", "val"), f"{a}[{i}]")
        elif load == "gather":
            idx = k.array(("indices", "ids", "perm"), "int")
            j = k.let(("j", "src_i"), f"{idx}[{i}]")
            v = k.let(("v", "va"), f"{a}[{j}]")
        elif load in ("stencil", "window"):
            n = k.let(("n", "count"), f"{a}.shape[0]")
            if load == "stencil":
                lo = k.let(("il", "left"), f"wp.max({i} - 1, 0)")
                hi = k.let(("ir", "right"), f"wp.min({i} + 1, {n} - 1)")
                if k.chance(0.6):
                    call = f"{self.helper('lcr')}({a}[{lo}], {a}[{i}], {a}[{hi}], {self.t})"
                else:
                    mean = lambda: f"({a}[{lo}] + {a}[{hi}]) * {self.c('0.5')}"  # noqa: E731
                    call = k.pick((mean, lambda: f"{a}[{hi}] - {a}[{lo}]"))()
                v = k.let(("v", "s"), call)
            else:
                v = k.let(("acc", "total"), f"{a}[{i}]")
                bound, value = self.count("width")
                o = k.fresh("o", "k")
                with k.block(f"for {o} in range(1, {bound}):"):
                    k.emit(f"{v} += {a}[wp.min({i} + {o}, {n} - 1)]")
                if k.chance(0.6):
                    k.emit(f"{v} = {v} * ({self.c('1.0')} / {self.c(value)})")
        else:
            call = k.pick(
                (
                    lambda: f"{self.helper('abt')}({a}[{i}], {self.b}[{i}], {self.t})",
                    lambda: f"{a}[{i}] * {self.t} + {self.b}[{i}] * ({self.c('1.0')} - {self.t})",
                    lambda: f"{a}[{i}] - {self.b}[{i}]",
                )
            )()
            v = k.let(("v", "d"), call)
        other = f"{a}[{i}]" if load in ("gather", "stencil", "window") else _Lazy(lambda: f"{self.b}[{i}]")
        steps = [s for s in _STEPS if s is not _elementwise or self.elementwise]
        for step in k.rng.sample(steps, k.rng.choice((1, 1, 2, 2, 3))):
            step(self, v, other, i)
        self.sink(v, i, load, idx)

    def sink(self, v: str, i: str, load: str, idx: str | None) -> None:
        k = self.k
        roll = k.rng.randrange(6)
        if roll == 0 and load == "elem" and self._b is None and self._out is None:
            k.emit(f"{k.params[0][0]}[{i}] = {v}")  # in place: no other thread reads this element
        elif roll == 1:
            k.emit(f"{self.out}[{i}] += {v}")
        elif roll == 2:
            k.emit(f"wp.atomic_add({self.out}, 0, {v})")
        elif roll == 3 and idx is not None:
            k.emit(f"wp.atomic_add({self.out}, {idx}[{i}], {v})")
        elif roll == 4:
            k.emit(f"{self.out}[{i}] = {v}")
            total = self.arr(("total", "sum_out", "accum"))
            k.emit(f"wp.atomic_add({total}, 0, {v})")
        else:
            k.emit(f"{self.out}[{i}] = {v}")


# Steps that update the value ``v`` in place; ``other`` is an element of the same type.
def _call_abt(g: GenericBody, v: str, other, i: str) -> None:
    g.k.emit(f"{v} = {g.helper('abt')}({v}, {other}, {g.t})")


def _scale(g: GenericBody, v: str, other, i: str) -> None:
    k = g.k
    forms = (
        lambda: f"{v} *= {g.t}",
        lambda: f"{v} = {v} * {g.t} + {other}",
        lambda: f"{v} = {g.helper('at')}({v}, {g.t})",
    )
    k.emit(k.pick(forms)())


def _parity(g: GenericBody, v: str, other, i: str) -> None:
    k = g.k
    roll = k.rng.randrange(3)
    if roll == 0:
        k.emit(f"{v} = wp.where({i} % 2 == 0, {v}, {other})")
        return
    with k.block(f"if {i} % 2 == 0:" if k.chance(0.7) else f"if {i} % 2 == 1:"):
        k.emit(f"{v} = -{v}" if roll == 1 else f"{v} = {g.helper('at')}({v}, {g.t})")
    if k.chance(0.5):
        with k.block("else:"):
            k.emit(f"{v} = {v} - {other} * {g.t}")


def _iterate(g: GenericBody, v: str, other, i: str) -> None:
    k = g.k
    bound, _ = g.count("iters")
    s = k.fresh("s", "it")
    with k.block(f"for {s} in range({bound}):"):
        if k.chance(0.5):
            k.emit(f"{v} = {g.helper('abt')}({v}, {other}, {g.t})")
        else:
            k.emit(f"{v} = {v} + ({other} - {v}) * {g.t}")


def _elementwise(g: GenericBody, v: str, other, i: str) -> None:
    k = g.k
    k.emit(
        k.pick(
            (lambda: f"{v} = wp.abs({v})", lambda: f"{v} = wp.max({v}, {other})", lambda: f"{v} = wp.min({v}, {other})")
        )()
    )


def _flag(g: GenericBody, v: str, other, i: str) -> None:
    k = g.k
    test = g.flag(("flip", "negate", "use_reference", "mirror"))
    if test is None:
        with k.block(f"if {g.t} > {g.c('0.0')}:"):
            k.emit(f"{v} = {v} + {other} * {g.t}")
        return
    with k.block(f"if {test}:"):
        k.emit(f"{v} = -{v}" if k.chance(0.5) else f"{v} = {v} - {other}")


_STEPS = (_call_abt, _scale, _parity, _iterate, _elementwise, _flag)


def generic_overload(k: Kernel) -> None:
    """A kernel over ``Any`` dtypes with one concrete ``wp.overload`` reachable at module level
    (and sometimes others registered beside it): the body is valid for each of them."""
    k.mod.need_any()
    generic = k.mod.name("blend_kernel", "lerp_arrays", "relax_generic", "mix_kernel", "generic_update")
    dtype, scalar = k.pick(_CONCRETE)
    others = [d for d in k.rng.sample(_CONCRETE, k.rng.randint(0, 2)) if d[0] != dtype]
    kinds = {family(d) for d, _ in [(dtype, scalar), *others]}
    k.overload_of = generic
    k.generic = True
    GenericBody(k, "Any", "Any", "matrix" not in kinds).write()
    arrays = [p for p in k.params if "array" in p[1]]
    k.params = arrays + [p for p in k.params if "array" not in p[1]]

    def concrete(d: str, s: str) -> list[str]:
        return [a.replace("dtype=Any", f"dtype={d}") if "array" in a else s if a == "Any" else a for _, a in k.params]

    for other, other_scalar in others:
        k.mod.tail.append(f"wp.overload({generic}, [{', '.join(concrete(other, other_scalar))}])")
    k.concrete = list(zip([p for p, _ in k.params], concrete(dtype, scalar), strict=True))


def dtype_factory(k: Kernel) -> None:
    """A factory building the kernel for one dtype (closures over types), specialised on Python
    values: loop counts, the helper to apply, flags read with ``wp.static``."""
    dtype, scalar = k.pick(_CONCRETE)
    tname = k.pick(("dtype", "vec_type", "value_type", "T"))
    sname = k.pick(("scalar", "scalar_type", "real"))
    factory: list[tuple[str, str]] = []
    const = f"{sname}({{c}})" if k.chance(0.6) else "type({t})({c})"
    GenericBody(k, tname, sname, family(dtype) != "matrix", const, factory).write()
    if not any(sname in a for _, a in k.params):  # the scalar type is a parameter the kernel uses
        factory_sig, call_args = [tname], [dtype]
    else:
        factory_sig, call_args = [tname, sname], [dtype, scalar]
    factory_sig += [s for s, _ in factory]
    call_args += [v for _, v in factory]
    fname = k.mod.name("make_kernel", "create_kernel", "make_generic_kernel", "kernel_for_type", "build_kernel")
    k.factory = (f"def {fname}({', '.join(factory_sig)}):", f"{fname}({', '.join(call_args)})")
    k.factory_inner = k.pick(("kernel", "apply", "update", "kernel_impl"))
    k.bindings = {tname: dtype, sname: scalar}
