"""The only module that touches Warp internals: build a kernel module from source text and
return its generated C++ (CPU) and CUDA code, piece by piece.

Warp has no public codegen-only API.  We use ``warp._src.context.ModuleBuilder`` (as Warp's
own tests do) and ``warp._src.codegen``; the pieces are checked against the public
``wp.compile_aot_module`` output by ``tests/integration/test_codegen_aot.py``.  The Warp
version is pinned in ``pyproject.toml`` to the series tested here (``SUPPORTED_WARP``).
"""

from __future__ import annotations

import contextlib
import linecache
import os
import re
import sys
import time
import types
from dataclasses import dataclass, field

SUPPORTED_WARP = "1.19."
DEVICES = ("cpu", "cuda")
# Order in which the pieces make up a kernel's full code (as in Warp's module source).
PIECES = ("structs", "functions", "args", "forward", "backward", "entry")

_LINE_COMMENT = re.compile(r"[ \t]*<L \d+>[ \t]*$", re.MULTILINE)
# Warp marks each function with "// <source file>:<line>"; the file is a per-kernel temporary
# name here, so it is normalised to SOURCE_FILE.
_FILE_COMMENT = re.compile(r"^// (?:<curator:[^>\n]*>|[^\n]*\.py):(\d+)$", re.MULTILINE)
SOURCE_FILE = "kernel.py"
_warp = None


class CodegenError(Exception):
    """Warp could not build or generate code for a kernel."""

    def __init__(self, stage: str, exc: BaseException):
        super().__init__(f"{stage}: {type(exc).__name__}: {exc}")
        self.stage = stage
        self.exc_type = type(exc).__name__
        self.message = str(exc)


@dataclass
class Artifact:
    """Generated code of one kernel for one device."""

    device: str
    pieces: dict[str, str]
    codegen_ms: float
    warp_version: str = ""
    header: str = field(default="", repr=False)

    @property
    def full(self) -> str:
        return "".join(self.pieces[p] for p in PIECES)


def normalize_line_comments(code: str) -> str:
    """Drop Warp's per-statement ``<L n>`` markers and name the source file ``kernel.py``, so
    identical kernels give identical code wherever they were built."""
    return _FILE_COMMENT.sub(rf"// {SOURCE_FILE}:\1", _LINE_COMMENT.sub("", code))


def init_warp():
    """Import and initialise Warp once per process (no GPU or driver needed)."""
    global _warp
    if _warp is None:
        import warp as wp

        if not wp.config.version.startswith(SUPPORTED_WARP):
            raise RuntimeError(f"curator supports warp-lang {SUPPORTED_WARP}x, found {wp.config.version}")
        wp.config.quiet = True
        wp.config.log_level = wp.LOG_WARNING  # no greeting banner from every worker
        with _native_stderr_silenced():  # "CUDA driver not found" is expected here
            wp.init()
        _warp = wp
    return _warp


@contextlib.contextmanager
def _native_stderr_silenced():
    """Discard what native code writes to file descriptor 2 (Python's sys.stderr is untouched)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def warp_version() -> str:
    return init_warp().config.version


def _load_module(source: str, module_name: str) -> types.ModuleType:
    filename = f"<curator:{module_name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(module_name)
    module.__file__ = filename
    sys.modules[module_name] = module
    exec(compile(source, filename, "exec"), module.__dict__)
    return module


def release_module(module_name: str) -> None:
    """Forget everything Python and Warp keep for a generated module (memory stays flat)."""
    from warp._src import context

    module = context.user_modules.pop(module_name, None)
    if module is not None:
        # Warp links modules both ways (a kernel using warp.math registers as its dependent);
        # cut the edges or every generated module stays reachable from warp.math.
        for ref in tuple(module.references):
            ref.dependents.discard(module)
        module.references.clear()
    sys.modules.pop(module_name, None)
    linecache.cache.pop(f"<curator:{module_name}>", None)


def _options(module, device: str) -> dict:
    wp = init_warp()
    # CPU launches compile with block_dim=1; CUDA launches with the module default (256).
    block_dim = 1 if device == "cpu" else None
    return module.resolve_options(wp.config, block_dim=block_dim) | {"output_arch": None}


def _split_kernel(kernel, device: str, options: dict) -> tuple[str, str, str]:
    """Split Warp's kernel code into (args struct, forward, backward)."""
    from warp._src import codegen

    full = codegen.codegen_kernel(kernel, device=device, options=options)
    fwd_only = codegen.codegen_kernel(kernel, device=device, options=options | {"enable_backward": False})
    args = ""
    if device == "cpu":
        args = fwd_only[: fwd_only.index("};\n") + 3]
    forward = fwd_only[len(args) :]
    if not full.startswith(args + forward):
        raise RuntimeError("Warp's kernel code no longer splits into args/forward/backward")
    return args, forward, full[len(args) + len(forward) :]


def _pieces(builder, kernel, device: str, options: dict) -> dict[str, str]:
    from warp._src import codegen

    builder.options = options
    structs, seen = [], set()
    for struct in builder.structs:
        if struct.hash not in seen:
            structs.append(codegen.codegen_struct(struct))
            seen.add(struct.hash)
    funcs = list(builder.functions)
    functions = builder._codegen_functions(funcs, device, forward_only=True)
    functions += builder._codegen_functions(funcs, device, reverse_only=True)
    args, forward, backward = _split_kernel(kernel, device, options)
    entry = codegen.codegen_module(kernel, device=device, options=options)
    raw = {
        "structs": "".join(structs),
        "functions": functions,
        "args": args,
        "forward": forward,
        "backward": backward,
        "entry": entry,
    }
    return {k: normalize_line_comments(v) for k, v in raw.items()}


def module_header(device: str) -> str:
    """Warp's fixed preamble for a module source (what precedes the pieces)."""
    from warp._src import codegen

    init_warp()
    if device == "cpu":
        header = codegen.cpu_module_header.format(block_dim=1)
    else:
        header = codegen.cuda_module_header.format(block_dim=256)
    return header + codegen.codegen_cast_macros


def generate(source: str, kernel_name: str, module_name: str, devices=DEVICES) -> dict[str, Artifact]:
    """Build ``kernel_name`` from ``source`` once and generate its code for each device.

    Raises CodegenError (stage ``import``, ``build`` or ``codegen``) on failure.  The module is
    always released afterwards.
    """
    init_warp()
    from warp._src import context

    # Warp numbers @wp.func native names with a process-global counter (helper_0, helper_1,
    # ...); restoring it afterwards makes a kernel's code independent of what was built before.
    saved_counts = dict(context.function_key_counts)
    try:
        t0 = time.perf_counter()
        try:
            module = _load_module(source, module_name)
            kernel = getattr(module, kernel_name)
        except Exception as exc:
            raise CodegenError("import", exc) from exc
        return generate_for_kernel(kernel, devices, started=t0)
    finally:
        release_module(module_name)
        context.function_key_counts.clear()
        context.function_key_counts.update(saved_counts)


def generate_for_kernel(kernel, devices=DEVICES, started: float | None = None) -> dict[str, Artifact]:
    """Generate code for an existing ``wp.Kernel`` object (e.g. one imported from a real
    module) for each device, from one build.  Raises CodegenError."""
    wp = init_warp()
    from warp._src import context

    t0 = started if started is not None else time.perf_counter()
    wmodule = kernel.module
    try:
        if getattr(kernel, "is_generic", False):
            raise TypeError("generic kernel (no concrete overload to generate)")
        builder = context.ModuleBuilder(wmodule, _options(wmodule, "cuda"), hasher=_single_kernel_hasher(kernel))
    except Exception as exc:
        raise CodegenError("build", exc) from exc
    build_ms = (time.perf_counter() - t0) * 1000
    out = {}
    for device in devices:
        t1 = time.perf_counter()
        try:
            pieces = _pieces(builder, kernel, device, _options(wmodule, device))
        except Exception as exc:
            raise CodegenError("codegen", exc) from exc
        ms = build_ms / len(devices) + (time.perf_counter() - t1) * 1000
        out[device] = Artifact(device, pieces, ms, wp.config.version)
    return out


def _single_kernel_hasher(kernel):
    """A ModuleHasher over this one kernel, so a module's other kernels are not built too."""
    from warp._src import context

    wp = init_warp()
    return context.ModuleHasher([kernel], kernel.module.resolve_options(wp.config))


def module_source(device: str, pieces: dict[str, str]) -> str:
    """The complete translation unit Warp would compile for one kernel's stored pieces."""
    body = "".join(pieces[p] for p in PIECES)
    type_defines = "" if "bfloat16" in body else "#define WP_NO_BFLOAT16\n"
    return type_defines + module_header(device) + body


# -- compilation (curator verify) --------------------------------------------------------
# Compiling stored code with the compilers Warp bundles: its Clang/LLVM for CPU C++ (what
# ``warp._src.build.build_cpu`` calls) and NVRTC for CUDA C++ (``build_cuda``), with Warp's
# default release options.  Diagnostics are printed by the native code on fd 2, so fd 2 is
# redirected into a file around each call.  Also: loading a stored kernel's Python source and
# launching it on random inputs (``curator verify --run``).

DEFAULT_ARCH = 86
BATCH_PREFIX = "curator_k"  # namespace of the i-th kernel in a batch translation unit
_DIAG_LINE = re.compile(r"^kernel\.(?:cpp|cu)(?::|\()(\d+)")
_PCH_NOTE = re.compile(r'^"kernel\.cu": (?:using|creating) precompiled header file ')


@dataclass
class CompileResult:
    """One compiler call: did it succeed, what it printed, how long it took."""

    ok: bool
    diagnostics: str
    ms: float


def compiler_identity(device: str, arch: int = DEFAULT_ARCH) -> tuple[str, str]:
    """(compiler, options) as recorded with a verification, e.g. ("nvrtc 13.4 (warp 1.19.0)",
    "sm_86 ptx -O3 ...").  A rerun skips kernels verified under the same pair."""
    wp = init_warp()
    from warp._src import context

    rt = context.runtime
    if device == "cpu":
        if rt.llvm is None:
            raise RuntimeError("Warp's CPU compiler (warp-clang) is not available")
        compiler = f"clang {rt.get_llvm_version()} (warp {wp.config.version})"
        return compiler, " ".join(("-O2", "block_dim=1", *_cpu_flags()))
    if arch not in rt.nvrtc_supported_archs:
        archs = ", ".join(str(a) for a in sorted(rt.nvrtc_supported_archs)) or "none"
        raise ValueError(f"NVRTC cannot compile for sm_{arch} (supported: {archs})")
    major, minor = rt.toolkit_version
    return f"nvrtc {major}.{minor} (warp {wp.config.version})", f"sm_{arch} ptx -O3 block_dim=256"


def nvrtc_archs() -> list[int]:
    init_warp()
    from warp._src import context

    return sorted(context.runtime.nvrtc_supported_archs)


def _cpu_flags() -> list[str]:
    wp = init_warp()
    from warp._src import context

    return context._resolve_cpu_compiler_flags(None, wp.config.cpu_compiler_flags).split()


def batch_source(device: str, pieces_list: list[dict[str, str]]) -> tuple[str, list[tuple[int, int]]]:
    """One translation unit for many kernels: Warp's header once, then each kernel's pieces in
    a namespace of its own, and each kernel's 1-based line range [first, last] in it.

    The namespaces keep apart what would otherwise clash between kernels: @wp.func names are
    numbered per kernel (two kernels both define ``helper_0``), and structs shared by two
    kernels would be defined twice.  Calls from Warp's templates into a struct's ``add`` /
    ``adj_atomic_add`` are found by argument-dependent lookup, as in the global namespace;
    ``extern "C"`` entry points keep their (hash-suffixed, unique) names.  The stored code is
    not changed: a kernel that fails in a batch is compiled alone with ``module_source``.
    """
    bodies = ["".join(p[k] for k in PIECES) for p in pieces_list]
    head = ("" if any("bfloat16" in b for b in bodies) else "#define WP_NO_BFLOAT16\n") + module_header(device)
    parts, ranges = [head], []
    line = head.count("\n") + 1
    for i, body in enumerate(bodies):
        if not body.endswith("\n"):
            body += "\n"
        opening, closing = f"namespace {BATCH_PREFIX}{i} {{\n", f"}} // namespace {BATCH_PREFIX}{i}\n"
        first = line + 1
        line += 1 + body.count("\n")
        ranges.append((first, line - 1))
        line += 1
        parts += [opening, body, closing]
    return "".join(parts), ranges


def split_diagnostics(diagnostics: str, ranges: list[tuple[int, int]]) -> list[str]:
    """Attribute a batch's compiler messages to its kernels by the line they point at (a
    message's continuation lines go with it; messages outside every kernel are dropped)."""
    out: list[list[str]] = [[] for _ in ranges]
    owner = None
    for text in diagnostics.splitlines(keepends=True):
        m = _DIAG_LINE.match(text)
        if m:
            n = int(m.group(1))
            owner = next((i for i, (a, b) in enumerate(ranges) if a <= n <= b), None)
        elif not text.startswith((" ", "\t")) and text.strip() and not text.startswith("/"):
            owner = None  # a summary line such as "2 warnings generated."
        if owner is not None:
            out[owner].append(text)
    return ["".join(lines) for lines in out]


class Compiler:
    """Warp's bundled compiler for one device, reused across calls (the first call in a
    process builds the precompiled header; later calls reuse it)."""

    def __init__(self, device: str, arch: int = DEFAULT_ARCH, workdir: str | None = None):
        import os
        import tempfile

        wp = init_warp()
        from warp._src import build, context

        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}")
        self.device, self.arch = device, arch
        self.compiler, self.options = compiler_identity(device, arch)
        self._tmp = tempfile.TemporaryDirectory(prefix="curator_verify_", dir=workdir)
        self._rt = context.runtime
        self._include = os.path.join(build.warp_home, "native").encode()
        self._pch = os.path.join(self._tmp.name, "pch")
        os.makedirs(self._pch, exist_ok=True)
        self._flags = [f.encode() for f in _cpu_flags()] if device == "cpu" else []
        self._quiet = wp.config.quiet

    def close(self) -> None:
        self._tmp.cleanup()

    def compile(self, source: str) -> CompileResult:
        """Compile one translation unit; never raises for a compile error."""
        import ctypes
        import os
        import tempfile

        out = os.path.join(self._tmp.name, "out.o" if self.device == "cpu" else "out.ptx")
        src = source.encode()
        with tempfile.TemporaryFile(dir=self._tmp.name) as log:
            sys.stderr.flush()
            saved = os.dup(2)
            os.dup2(log.fileno(), 2)
            t0 = time.perf_counter()
            try:
                if self.device == "cpu":
                    flags = (ctypes.c_char_p * (len(self._flags) + 1))(*self._flags, None)
                    # (src, file, include, output, debug, verify_fp, fuse_fp, tiles_in_stack,
                    #  flags, opt, verbose, use_pch, pch_dir, block_dim) as in build.build_cpu
                    err = self._rt.llvm.wp_compile_cpp(
                        src, b"kernel.cpp", self._include, out.encode(), False, False, True, True, flags, 2, False,
                        True, self._pch.encode(), 1,
                    )  # fmt: skip
                else:
                    # as in build.build_cuda: release, -O3, no fast math, fused fp, PTX output;
                    # NVRTC 13 keeps its precompiled headers itself (pch_dir None).
                    err = self._rt.core.wp_cuda_compile_program(
                        src, b"kernel.cu", self.arch, b"", self._include, 0, None, False, 3, False, False, False,
                        True, False, False, True, out.encode(), None, 0, None, None, None,
                    )  # fmt: skip
            finally:
                ms = (time.perf_counter() - t0) * 1000
                os.dup2(saved, 2)
                os.close(saved)
            log.seek(0)
            diagnostics = log.read().decode(errors="replace")
        if os.path.exists(out):
            os.unlink(out)
        # NVRTC names the precompiled header it made or used; that says nothing about the kernel.
        diagnostics = "".join(ln for ln in diagnostics.splitlines(True) if not _PCH_NOTE.match(ln))
        # A failed CPU compile is retried without the precompiled header; keep that retry's
        # messages only (the same errors, printed twice otherwise).
        retry = "retrying without precompiled headers\n"
        if retry in diagnostics:
            diagnostics = diagnostics.split(retry, 1)[1]
        return CompileResult(err == 0, diagnostics, ms)


def load_kernel(source: str, kernel_name: str, module_name: str):
    """Import a stored kernel's Python source as a module: (module, wp.Kernel).  Release it
    with ``release_module(module_name)``.  Raises CodegenError (stage ``import``)."""
    init_warp()
    try:
        module = _load_module(source, module_name)
        return module, getattr(module, kernel_name)
    except Exception as exc:
        release_module(module_name)
        raise CodegenError("import", exc) from exc


_ANNOTATION = re.compile(r"^wp\.array(?P<nd>[1-4]d)?\((?P<inner>.*)\)$")


def _resolve_type(text: str, module):
    """A Warp type from its annotation text (``wp.vec3``, ``float``, ``Body``...)."""
    wp = init_warp()
    namespace = {"wp": wp, "float": float, "int": int, "bool": bool} | vars(module)
    return eval(text, namespace)  # the text comes from the kernel's own source annotations


def _random_value(dtype, shape, rng, device):
    """A random Warp value of ``dtype``: an array of ``shape``, or a scalar/struct if no shape."""
    import numpy as np

    wp = init_warp()
    from warp._src import codegen as wcodegen
    from warp._src import types as wtypes

    if isinstance(dtype, wcodegen.Struct):
        if shape is None:
            value = dtype()
            for name, var in dtype.vars.items():
                setattr(value, name, _random_value(var.type, None, rng, device))
            return value
        items = [_random_value(dtype, None, rng, device) for _ in range(int(np.prod(shape)))]
        return wp.array(items, dtype=dtype, device=device).reshape(shape)
    python = {float: wp.float32, int: wp.int32, bool: wp.bool}
    dtype = python.get(dtype, dtype)
    scalar = getattr(dtype, "_wp_scalar_type_", dtype)  # vectors, matrices, quaternions...
    elem_shape = tuple(getattr(dtype, "_shape_", ()))
    np_type = np.dtype(wtypes.warp_type_to_np_dtype[scalar])
    count = int(np.prod(shape or ())) * int(np.prod(elem_shape))
    if np_type.kind == "f":
        raw = rng.uniform(-1.0, 1.0, count).astype(np_type)
    elif np_type.kind == "b":
        raw = rng.integers(0, 2, count).astype(np_type)
    else:  # small non-negative integers: they often end up as loop bounds or indices
        raw = rng.integers(0, 8, count).astype(np_type)
    if shape is not None:
        return wp.array(raw.reshape(tuple(shape) + elem_shape), dtype=dtype, device=device)
    if not elem_shape:
        return raw[0].item()  # a Python number: Warp converts it to the parameter's type
    return dtype(*raw.tolist())


def launch_random(kernel, module, kernel_args: list, launch_dim: int, device: str, seed: int = 0, size: int = 8):
    """Launch ``kernel`` on ``device`` with random inputs built from its argument annotations
    (``kernels.kernel_args``): arrays of ``size`` per dimension, ``launch_dim`` dimensions of
    ``size`` threads; the same seed gives the same inputs on every device.  Returns (inputs,
    outputs): every argument's value before the launch (arrays as ndarrays, scalars and structs
    as given) and every array argument's contents after it (name -> ndarray)."""
    import numpy as np

    wp = init_warp()
    rng = np.random.default_rng(seed)
    values, inputs, arrays = [], {}, []
    for name, annotation in kernel_args:
        m = _ANNOTATION.match(annotation.replace(" ", ""))
        if m:
            inner = dict(kv.split("=", 1) for kv in m.group("inner").split(","))
            ndim = int(m.group("nd")[0]) if m.group("nd") else int(inner.get("ndim", 1))
            value = _random_value(_resolve_type(inner["dtype"], module), (size,) * ndim, rng, device)
            arrays.append((name, value))
            inputs[name] = _array_numpy(value)
        else:
            value = inputs[name] = _random_value(_resolve_type(annotation, module), None, rng, device)
        values.append(value)
    wp.launch(kernel, dim=(size,) * launch_dim, inputs=values, device=device)
    wp.synchronize_device(device)
    return inputs, {name: _array_numpy(a) for name, a in arrays}


def _array_numpy(array):
    import numpy as np

    out = array.numpy().copy()  # on CPU numpy() is a view of the array's memory
    if out.dtype.names:  # structs: compare their raw bytes field by field
        return np.concatenate([np.ascontiguousarray(out[f]).reshape(len(out.reshape(-1)), -1).astype(np.float64)
                               for f in out.dtype.names], axis=1)  # fmt: skip
    return out


def cuda_available() -> bool:
    """Whether this process can launch on a GPU (a CUDA driver and a device)."""
    return init_warp().is_cuda_available()


# -- real kernels (curator ingest) --
# Helpers for `curator ingest`, which imports existing modules and generates code for the
# kernels they define.  They keep every use of Warp's internal registries in this module.


def kernels_from_file(filename: str) -> list:
    """Live ``wp.Kernel`` objects (of any Warp module) whose Python function is defined in
    ``filename``, in a stable order (line, key, Warp module name)."""
    import os

    from warp._src import context

    init_warp()
    want = os.path.realpath(filename)
    found = []
    for wmodule in list(context.user_modules.values()):
        for kernel in wmodule._get_live_kernels():
            code = getattr(kernel.func, "__code__", None)
            if code is not None and os.path.realpath(code.co_filename) == want:
                found.append(kernel)
    found.sort(key=lambda k: (k.func.__code__.co_firstlineno, k.key, k.module.name))
    return found


def concrete_kernels(kernel) -> list:
    """The kernel itself, or for a generic kernel its overloads (``wp.overload``) by signature."""
    if not getattr(kernel, "is_generic", False):
        return [kernel]
    return [kernel.overloads[sig] for sig in sorted(kernel.overloads)]


def kernel_signature(kernel) -> str:
    """The overload signature of a generic kernel's instance ("" for a plain kernel)."""
    return getattr(kernel, "sig", "") or ""


def kernel_dependencies(kernel) -> tuple[list, list]:
    """(``@wp.struct`` classes, ``@wp.func`` Python functions) that building ``kernel`` uses, in
    Warp's dependency order; built-ins and native snippets are left out.  Raises CodegenError."""
    from warp._src import context

    init_warp()
    try:
        builder = context.ModuleBuilder(
            kernel.module, _options(kernel.module, "cuda"), hasher=_single_kernel_hasher(kernel)
        )
    except Exception as exc:
        raise CodegenError("build", exc) from exc
    structs = [s.cls for s in builder.structs if getattr(s, "cls", None) is not None]
    funcs = []
    for fn in builder.functions:
        if fn.is_builtin() or getattr(fn, "native_snippet", None) is not None or fn.func is None:
            continue
        funcs.append(fn.func)
    return structs, funcs


def config_snapshot() -> dict:
    """Warp's global settings (``wp.config``), so a module that changes them at import (e.g.
    ``wp.config.verify_fp = True``) does not change the code generated for the next one."""
    wp = init_warp()
    return {k: v for k, v in vars(wp.config).items() if not k.startswith("_") and not isinstance(v, types.ModuleType)}


def config_restore(snapshot: dict) -> None:
    wp = init_warp()
    for k, v in snapshot.items():
        setattr(wp.config, k, v)
