"""Assemble a whole module: struct, @wp.func helpers, kernel parameters and the kernel body."""

from __future__ import annotations

import random

from .env import ArrayParam, Env, Helper, StructDef, Var
from .expr import ExprGen
from .sink import combine, convert
from .stmt import IND, BodyGen, pick_weighted
from .themes import THEMES, type_weights
from .types import ARRAY_DTYPES, TYPES

_TID_NAMES = (("i",), ("i", "j"), ("i", "j", "k"))
_ARRAY_NAMES = ("src", "dst", "out", "data", "values", "points", "buf", "grid", "field", "accum", "weights")
_SCALAR_PARAM_NAMES = ("n", "scale", "count", "alpha", "beta", "limit", "dt", "gain", "offset", "steps")
_FIELD_NAMES = ("mass", "pos", "vel", "gain", "rot", "frame", "count", "damping", "scale", "tag", "axis", "bias")
_STRUCT_NAMES = ("Params", "State", "Body", "Particle", "Config", "Material", "Cell")
_FUNC_NAMES = ("blend", "step_fn", "shade", "warp_value", "mix", "falloff", "kernel_fn", "eval_term", "response")
_STRUCT_FIELD_KINDS = ("scalar", "vec", "mat", "quat")


class ProgramGen:
    def __init__(self, rng: random.Random, category: str):
        self.rng = rng
        self.category = category
        self.theme = THEMES[category]
        self.lines: list[str] = ["import warp as wp", ""]
        self.args: list[tuple[str, str]] = []
        self.type_weights = type_weights(category)
        self.called: set[str] = set()  # names read by helper bodies (helpers calling helpers)

    def pick_type(self, allowed) -> str:
        weights = {k: w for k, w in self.type_weights.items() if k in allowed}
        return pick_weighted(self.rng, weights)

    def unique(self, pool, used: set[str]) -> str:
        name = self.rng.choice(pool)
        while name in used:
            name = f"{name}_{len(used)}"
        used.add(name)
        return name

    # -- module parts ------------------------------------------------------------------------
    def make_struct(self) -> StructDef:
        rng = self.rng
        allowed = [k for k in TYPES if TYPES[k].kind in _STRUCT_FIELD_KINDS]
        used: set[str] = set()
        fields = [(self.unique(_FIELD_NAMES, used), self.pick_type(allowed)) for _ in range(rng.randint(2, 5))]
        sdef = StructDef(rng.choice(_STRUCT_NAMES), fields)
        self.lines += ["", "@wp.struct", f"class {sdef.name}:"]
        self.lines += [f"{IND}{f}: {TYPES[t].annotation}" for f, t in fields]
        self.lines.append("")
        return sdef

    def make_helper(self, env: Env, index: int) -> Helper:
        rng = self.rng
        allowed = [k for k in TYPES if TYPES[k].kind != "bool"]
        params = [(f"p{n}", self.pick_type(allowed)) for n in range(rng.randint(1, 3))]
        ret = self.pick_type(allowed)
        name = f"{rng.choice(_FUNC_NAMES)}_{index}"
        fenv = Env(helpers=list(env.helpers), counter=100 * (index + 1))
        fenv.struct = env.struct
        for p, t in params:
            fenv.add(Var(p, t, assignable=False))
        fenv.int_bounds = [p for p, t in params if t == "int32"]
        exprs = ExprGen(rng, self.category, fenv)
        body = BodyGen(rng, self.category, fenv, exprs, in_kernel=False)
        budget = rng.randint(1, 6)
        used = 0
        while used < budget:
            used += body.statement(1, budget - used)
        if rng.random() < 0.25:
            # An early return from a branch, as helpers in real code often have.
            body.emit(1, f"if {exprs.condition(1)}:")
            body.emit(2, f"return {exprs.expr(ret, 1)}")
        # The return consumes every value and parameter nobody has read yet.
        terms = body.pending_terms(fenv.scopes[0])
        rng.shuffle(terms)
        if terms and rng.random() < 0.3:
            extra = exprs.expr(ret, 1)
            if all(extra != t for t, _ in terms):
                terms.append((extra, ret))
        value = combine(ret, [convert(rng, t, k, ret) for t, k in terms]) if terms else exprs.expr(ret, body.depth())
        body.emit(1, f"return {value}")
        self.called |= fenv.used
        sig = ", ".join(f"{p}: {TYPES[t].annotation}" for p, t in params)
        self.lines += ["", "@wp.func", f"def {name}({sig}) -> {TYPES[ret].annotation}:", *body.lines, ""]
        return Helper(name, params, ret)

    def array_annotation(self, dtype: str, ndim: int) -> str:
        dt = TYPES[dtype].annotation if dtype in TYPES else dtype
        if ndim == 1:
            return f"wp.array(dtype={dt})"
        if self.rng.random() < 0.5:
            return f"wp.array{ndim}d(dtype={dt})"
        return f"wp.array(dtype={dt}, ndim={ndim})"

    def make_params(self, env: Env, dim: int) -> None:
        rng = self.rng
        used: set[str] = set()
        for _ in range(rng.randint(*self.theme.arrays)):
            ndim = rng.randint(1, dim) if rng.random() < 0.5 else dim
            arr = ArrayParam(self.unique(_ARRAY_NAMES, used), self.pick_type(ARRAY_DTYPES), ndim)
            env.arrays.append(arr)
            self.args.append((arr.name, self.array_annotation(arr.dtype, ndim)))
        scalar_keys = ("int32", "float32", "float32", "int32", "float64", "int64", "uint32", "float16")
        for _ in range(rng.randint(*self.theme.scalar_params)):
            key = rng.choice(scalar_keys)
            name = self.unique(_SCALAR_PARAM_NAMES, used)
            env.add(Var(name, key, assignable=False))
            self.args.append((name, TYPES[key].annotation))
            if key == "int32":
                env.int_bounds.append(name)
        if env.struct is not None:
            roll = rng.random()
            if roll < 0.7:
                pname = self.unique(("cfg", "params", "state", "body"), used)
                self.args.append((pname, env.struct.name))
                env.struct_reads += [(f"{pname}.{f}", t) for f, t in env.struct.fields]
            if roll > 0.4:
                arr = ArrayParam(self.unique(("items", "bodies", "records"), used), env.struct.name, 1)
                env.struct_arrays.append(arr)
                self.args.append((arr.name, self.array_annotation(env.struct.name, 1)))
        env.int_bounds += [f"{a.name}.shape[0]" for a in env.arrays]

    def leftovers(self, env: Env, exprs: ExprGen, body: BodyGen) -> list[tuple[str, str]]:
        """(text, type) of everything the kernel computed or received but never used."""
        rng = self.rng
        terms = body.pending_terms(env.scopes[0])
        state = env.by_name.get("rng")
        if state is not None and state.pending:
            terms.append((rng.choice(("wp.randf(rng)", "wp.randn(rng)")), "float32"))
        for local in env.struct_locals:
            assert env.struct is not None  # struct locals exist only with a struct
            written = [(f"{local}.{f}", k) for f, k in env.struct.fields if env.by_name[f"{local}.{f}"].pending]
            if not written and env.by_name[local].pending:  # never touched: read one default field
                fname, key = rng.choice(env.struct.fields)
                written = [(f"{local}.{fname}", key)]
            terms += written
        for arr in env.arrays:
            if arr.name not in env.used:
                terms.append((f"{arr.name}[{exprs.index(arr)}]", arr.dtype))
        for h in env.helpers:
            if h.name not in env.used and h.name not in self.called:
                terms.append((f"{h.name}({', '.join(exprs.args([t for _, t in h.params], 1))})", h.ret))
        rng.shuffle(terms)
        return terms

    def kernel(self, name: str) -> tuple[str, int]:
        rng, theme = self.rng, self.theme
        env = Env()
        if rng.random() < theme.struct_p:
            env.struct = self.make_struct()
        for index in range(rng.randint(*theme.helpers)):
            env.helpers.append(self.make_helper(env, index))
        dim = 1 + _index(rng, theme.dims)
        self.make_params(env, dim)
        env.tid = list(_TID_NAMES[dim - 1])
        exprs = ExprGen(rng, self.category, env)
        body = BodyGen(rng, self.category, env, exprs)
        # Appended, not emitted: the indices count as read only once a statement reads them.
        body.lines.append(f"{IND}{', '.join(env.tid)} = wp.tid()")
        for t in env.tid:
            env.add(Var(t, "int32", assignable=False))
        if rng.random() < theme.rng_p:
            env.rng_state = "rng"
            # Seed from an int parameter when there is one, as real kernels do.
            seeds = [v.name for v in env.all_vars() if v.type == "int32" and v.name not in env.tid]
            seed = seeds[0] if seeds else None
            offset = env.tid[0] if dim == 1 else f"{env.tid[0]} * 4096 + {env.tid[1]}"
            env.track(Var("rng", "uint32", assignable=False))
            body.emit(1, f"rng = wp.rand_init({seed or rng.randint(1, 99999)}, {offset})", writes=("rng",))
        if env.struct is not None and rng.random() < 0.6:
            local = env.fresh("s")
            env.track(Var(local, env.struct.name, assignable=False))
            for fname, key in env.struct.fields:
                env.track(Var(f"{local}.{fname}", key, assignable=False))
            body.emit(1, f"{local} = {env.struct.name}()", writes=(local,))
            env.struct_locals.append(local)
            env.struct_reads += [(f"{local}.{f}", t) for f, t in env.struct.fields]
        budget = rng.randint(*theme.size)
        used = 0
        while used < budget:
            used += body.statement(1, budget - used)
        body.final_stores(1, self.leftovers(env, exprs, body))
        sig = ", ".join(f"{a}: {t}" for a, t in self.args)
        self.lines += ["", "@wp.kernel", f"def {name}({sig}):", *body.lines]
        return "\n".join(self.lines) + "\n", dim


def _index(rng: random.Random, weights) -> int:
    r = rng.random() * sum(weights)
    for n, w in enumerate(weights):
        r -= w
        if r <= 0:
            return n
    return len(weights) - 1
