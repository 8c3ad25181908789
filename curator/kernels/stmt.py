"""Typed statement generation: declarations, assignments, stores, atomics, branches and loops."""

from __future__ import annotations

import random

from .env import Env, Var
from .expr import ExprGen, reads_var
from .sink import SinkMixin
from .themes import THEMES, type_weights
from .types import ATOMIC_ADD_DTYPES, ATOMIC_MINMAX_DTYPES, FLOAT_SCALARS, TYPES, int_text, literal, vec

IND = "    "
_PREFIX = {
    "scalar": "a",
    "bool": "flag",
    "vec": "v",
    "mat": "m",
    "quat": "q",
    "transform": "xf",
    "spatial": "sv",
    "spatial_matrix": "sm",
}
_AUG_OPS = {
    "float": ("+=", "-=", "*=", "/="),
    "int": ("+=", "-=", "*=", "&=", "|=", "^="),
    "vec": ("+=", "-="),
    "mat": ("+=", "-="),
}
MAX_NEST = 3


def pick_weighted(rng: random.Random, weights: dict[str, float]) -> str:
    total = sum(weights.values())
    r = rng.random() * total
    for k, w in weights.items():
        r -= w
        if r <= 0:
            return k
    return k


class BodyGen(SinkMixin):
    """Emits statements into ``lines``; ``in_kernel`` enables arrays, atomics and struct arrays."""

    def __init__(self, rng: random.Random, category: str, env: Env, exprs: ExprGen, in_kernel: bool = True):
        self.rng = rng
        self.theme = THEMES[category]
        self.env = env
        self.exprs: ExprGen = exprs
        self.in_kernel = in_kernel
        self.lines: list[str] = []
        self.depth_range = self.theme.depth
        self.type_weights = type_weights(category)

    # -- helpers -----------------------------------------------------------------------------
    def emit(self, indent: int, text: str, writes: tuple[str, ...] = ()) -> None:
        self.lines.append(IND * indent + text)
        self.env.note(text, writes)

    def depth(self) -> int:
        return self.rng.randint(*self.depth_range)

    def new_type(self) -> str:
        return pick_weighted(self.rng, self.type_weights)

    def declare(self, indent: int, key: str, value: str | None = None) -> str:
        name = self.env.fresh(_PREFIX[TYPES[key].kind])
        if value is None:
            value = self.unalias(self.exprs.decl_value(key, self.depth()))
        self.env.add(Var(name, key))
        self.emit(indent, f"{name} = {value}", writes=(name,))
        return name

    def unalias(self, value: str) -> str:
        """Keep a local from aliasing a static-loop index (``a5 = -k4``): Warp would make the
        local a constant too, and a later cast of it retypes the shared constant."""
        core = value[2:-1] if value.startswith(("(-", "(~")) else value
        if core in self.env.static_vars:
            return f"({core} + {self.rng.randint(1, 3)})"
        return value

    def block(self, indent: int, budget: int) -> int:
        """Emit a nested block of about ``budget`` statements; returns how many were used."""
        self.env.push()
        self.env.nest += 1
        used = 0
        start = len(self.lines)
        while used < max(budget, 1):
            used += self.statement(indent, budget - used)
        self.settle(indent)
        if len(self.lines) == start:
            self.emit(indent, "pass")
        self.env.nest -= 1
        self.env.pop()
        return used

    # -- statements --------------------------------------------------------------------------
    def statement(self, indent: int, budget: int) -> int:
        env = self.env
        weights = dict(self.theme.stmts)
        if not self.in_kernel or not env.arrays:
            weights.pop("store", None)
            weights.pop("atomic", None)
        if not (env.struct_locals or env.struct_arrays) or not self.in_kernel:
            weights.pop("struct", None)
        if env.nest >= MAX_NEST + (1 if self.theme.extra.get("nest") else 0) or budget < 2:
            for k in ("if", "for_static", "for_dyn", "while"):
                weights.pop(k, None)
        kind = pick_weighted(self.rng, weights)
        return getattr(self, f"s_{kind}")(indent, budget)

    def s_decl(self, indent: int, budget: int) -> int:
        self.declare(indent, self.new_type())
        return 1

    def _assignable(self, pred=None) -> list[Var]:
        return [v for v in self.env.all_vars() if v.assignable and (pred is None or pred(TYPES[v.type]))]

    def _value(self, key: str, lhs: str, decl: bool = False) -> str | None:
        """An expression of type ``key`` for ``lhs = ...`` that is not ``lhs`` itself (None if stuck)."""
        for _ in range(3):
            value = self.exprs.decl_value(key, self.depth()) if decl else self.exprs.expr(key, self.depth())
            if value != lhs:
                return value
        return None

    def _operand(self, key: str) -> str:
        """An expression of type ``key`` that reads a variable (decomposing a constant is dead work)."""
        text = self.exprs.expr(key, self.depth())
        return text if reads_var(text) else self.exprs.var_leaf(key)

    def s_assign(self, indent: int, budget: int) -> int:
        # Only overwrite values something has read: overwriting a pending one would make it dead.
        targets = self._assignable(lambda t: True)
        targets = [v for v in targets if not v.pending]
        if not targets:
            return self.s_decl(indent, budget)
        v = self.rng.choice(targets)
        value = self._value(v.type, v.name, decl=True)
        if value is None:
            return self.s_decl(indent, budget)
        self.emit(indent, f"{v.name} = {self.unalias(value)}", writes=(v.name,))
        return 1

    def s_aug(self, indent: int, budget: int) -> int:
        targets = self._assignable(lambda t: t.kind in ("scalar", "vec", "mat"))
        if not targets:
            return self.s_decl(indent, budget)
        v = self.rng.choice(targets)
        t = TYPES[v.type]
        group = "float" if t.kind == "scalar" and t.scalar in FLOAT_SCALARS else t.kind
        group = "int" if t.kind == "scalar" and group != "float" else group
        op = self.rng.choice(_AUG_OPS[group])
        if t.kind == "vec" and t.scalar != "int32" and self.rng.random() < 0.3:
            op, key = "*=", t.scalar
        else:
            key = v.type
        value = self._value(key, v.name)
        if value is None:
            return self.s_decl(indent, budget)
        self.emit(indent, f"{v.name} {op} {value}", writes=(v.name,))
        return 1

    def s_comp(self, indent: int, budget: int) -> int:
        targets = self._assignable(lambda t: t.kind in ("vec", "mat", "quat", "spatial"))
        if not targets:
            return self.s_decl(indent, budget)
        v = self.rng.choice(targets)
        t = TYPES[v.type]
        rng = self.rng
        key = t.scalar
        if t.kind == "mat":
            r, c = rng.randrange(t.size), rng.randrange(t.size)
            if rng.random() < 0.25:
                lhs, key = f"{v.name}[{r}]", vec(t.scalar, t.size).key
            else:
                lhs = f"{v.name}[{r}, {c}]"
        elif t.kind == "vec" and rng.random() < 0.3:
            lhs = f"{v.name}.{'xyzw'[rng.randrange(t.size)]}"
        else:
            lhs = f"{v.name}[{rng.randrange(t.size)}]"
        value = self._value(key, lhs)
        if value is None:
            return self.s_decl(indent, budget)
        self.emit(indent, f"{lhs} = {value}", writes=(v.name,))
        return 1

    def s_store(self, indent: int, budget: int) -> int:
        arr = self.rng.choice(self.env.arrays)
        lhs = f"{arr.name}[{self.exprs.index(arr)}]"
        value = self._value(arr.dtype, lhs)
        if value is None:
            return self.s_decl(indent, budget)
        t = TYPES[arr.dtype]
        op = "+=" if t.kind in ("scalar", "vec") and self.rng.random() < 0.3 else "="
        self.emit(indent, f"{lhs} {op} {value}")
        return 1

    def s_atomic(self, indent: int, budget: int) -> int:
        rng = self.rng
        arrays = [a for a in self.env.arrays if a.dtype in ATOMIC_ADD_DTYPES]
        if not arrays:
            return self.s_store(indent, budget)
        arr = rng.choice(arrays)
        ops = ["atomic_add", "atomic_sub"]
        if arr.dtype in ATOMIC_MINMAX_DTYPES:
            ops += ["atomic_min", "atomic_max"]
        index = self.exprs.index(arr)
        value = self.exprs.expr(arr.dtype, self.depth())
        avoid = (*index.split(", "), f"{arr.name}[{index}]")  # atomic_min(a, i, a[i]) is a no-op
        if value in avoid:
            value = self.exprs.var_leaf(arr.dtype, avoid)
        call = f"wp.{rng.choice(ops)}({arr.name}, {index}, {value})"
        if rng.random() < 0.35:
            self.declare(indent, arr.dtype, call)
        else:
            self.emit(indent, call)
        return 1

    def s_struct(self, indent: int, budget: int) -> int:
        env, rng = self.env, self.rng
        assert env.struct is not None  # only called where struct locals or arrays exist
        fields = env.struct.fields
        if env.struct_arrays and rng.random() < 0.4:
            arr = rng.choice(env.struct_arrays)
            rec = env.fresh("rec")
            self.emit(indent, f"{rec} = {arr.name}[{self.exprs.index(arr)}]")
            fname, key = rng.choice(fields)
            self.emit(indent, f"{rec}.{fname} = {self._value(key, f'{rec}.{fname}') or literal(rng, TYPES[key])}")
            self.emit(indent, f"{arr.name}[{self.exprs.index(arr)}] = {rec}")
            return 3
        if not env.struct_locals:
            return self.s_decl(indent, budget)
        local = rng.choice(env.struct_locals)
        # Overwriting a field nobody has read since its last write would make that write dead.
        free = [(f, k) for f, k in fields if not env.by_name[f"{local}.{f}"].pending]
        if not free:
            return self.s_decl(indent, budget)
        fname, key = rng.choice(free)
        value = self._value(key, f"{local}.{fname}")
        if value is None:
            return self.s_decl(indent, budget)
        self.emit(indent, f"{local}.{fname} = {value}", writes=(f"{local}.{fname}",))
        return 1

    def s_decomp(self, indent: int, budget: int) -> int:
        rng = self.rng
        s = rng.choice(("float32", "float32", "float64"))
        suf = "d" if s == "float64" else ""
        m3, v3 = f"mat33{suf}", f"vec3{suf}"
        kind = rng.choice(("svd3", "eig3", "qr3", "svd2", "axis_angle"))
        if kind == "axis_angle":
            outs, src = [(v3, "v"), (s, "a")], f"wp.quat_to_axis_angle({self._operand('quat' + suf)})"
        elif kind == "svd2":
            m2 = f"mat22{suf}"
            outs, src = [(m2, "m"), (f"vec2{suf}", "v"), (m2, "m")], f"wp.svd2({self._operand(m2)})"
        else:
            shapes = {
                "svd3": [(m3, "m"), (v3, "v"), (m3, "m")],
                "eig3": [(m3, "m"), (v3, "v")],
                "qr3": [(m3, "m"), (m3, "m")],
            }
            outs, src = shapes[kind], f"wp.{kind}({self._operand(m3)})"
        names = [self.env.fresh(p) for _, p in outs]
        for name, (key, _) in zip(names, outs, strict=True):
            self.env.add(Var(name, key))
        self.emit(indent, f"{', '.join(names)} = {src}", writes=tuple(names))
        return 1

    def s_if(self, indent: int, budget: int) -> int:
        rng = self.rng
        used = 1
        self.emit(indent, f"if {self.exprs.condition(self.depth())}:")
        used += self.block(indent + 1, rng.randint(1, max(1, budget // 3)))
        elif_p = self.theme.extra.get("elif", 0.25)
        while rng.random() < elif_p and used < budget:
            self.emit(indent, f"elif {self.exprs.condition(self.depth())}:")
            used += 1 + self.block(indent + 1, rng.randint(1, max(1, budget // 4)))
            elif_p *= 0.7
        if rng.random() < 0.5:
            self.emit(indent, "else:")
            used += 1 + self.block(indent + 1, rng.randint(1, max(1, budget // 4)))
        return used

    def _loop_body(self, indent: int, budget: int, var: str) -> int:
        self.env.push()
        self.env.add(Var(var, "int32", assignable=False))
        self.env.loop_depth += 1
        used = self.block(indent + 1, self.rng.randint(1, max(1, budget // 2)))
        self.env.loop_depth -= 1
        self.env.pop()
        return used

    def s_for_static(self, indent: int, budget: int) -> int:
        rng = self.rng
        var = self.env.fresh("k")
        if rng.random() < 0.6:
            rng_text = f"range({rng.randint(1, 6)})"
        else:
            lo = rng.randint(0, 3)
            rng_text = f"range({lo}, {lo + rng.randint(1, 5)})"
        self.emit(indent, f"for {var} in {rng_text}:")
        # Warp unrolls a static loop and binds its index to constants; casting one of them
        # retypes the shared constant, so casts must never take the index directly.
        self.env.static_vars.add(var)
        return 1 + self._loop_body(indent, budget, var)

    def dynamic_bound(self) -> str:
        rng = self.rng
        loops = [v.name for v in self.env.all_vars() if not v.assignable and v.type == "int32"]
        options = list(self.env.int_bounds)
        roll = rng.random()
        if loops and roll < 0.35:
            return f"{rng.choice(loops)} + {rng.randint(1, 3)}"
        if options and roll < 0.7:
            return f"wp.min({rng.choice(options)}, {rng.randint(4, 16)})"
        value = self.exprs.expr("int32", 1)
        if not reads_var(value) or value.startswith("wp.abs("):
            value = self.exprs.var_leaf("int32")
        return f"wp.abs({value}) % {rng.randint(3, 9)}"

    def s_for_dyn(self, indent: int, budget: int) -> int:
        rng = self.rng
        var = self.env.fresh("k")
        stop = self.dynamic_bound()
        roll = rng.random()
        if roll < 0.55:
            header = f"range({stop})"
        elif roll < 0.8:
            header = f"range({int_text(rng, 0, 2)}, {stop})"
        else:
            header = f"range({int_text(rng, 0, 2)}, {stop}, {rng.randint(2, 3)})"
        self.emit(indent, f"for {var} in {header}:")
        return 1 + self._loop_body(indent, budget, var)

    def s_while(self, indent: int, budget: int) -> int:
        rng = self.rng
        counter = self.env.fresh("w")
        self.emit(indent, f"{counter} = int(0)")
        self.emit(indent, f"while {counter} < {self.dynamic_bound()}:")
        self.env.push()
        self.env.add(Var(counter, "int32", assignable=False))
        # Advance first so a `continue` below can never make the loop spin forever.
        self.emit(indent + 1, f"{counter} += 1")
        self.env.loop_depth += 1
        used = 2 + self.block(indent + 1, rng.randint(1, max(1, budget // 2)))
        self.emit(indent + 1, f"if {self.exprs.condition(1)}:")
        self.emit(indent + 2, rng.choice(("break", "continue")))
        if rng.random() < 0.3:
            used += self.block(indent + 1, 1)
        self.env.loop_depth -= 1
        self.env.pop()
        return used + 2
