"""The only module that touches Warp internals: build a kernel module from source text and
return its generated C++ (CPU) and CUDA code, piece by piece.

Warp has no public codegen-only API.  We use ``warp._src.context.ModuleBuilder`` (as Warp's
own tests do) and ``warp._src.codegen``; the pieces are checked against the public
``wp.compile_aot_module`` output by ``tests/integration/test_codegen_aot.py``.  The Warp
version is pinned in ``pyproject.toml`` to the series tested here (``SUPPORTED_WARP``).
"""

from __future__ import annotations

import linecache
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
        wp.init()
        _warp = wp
    return _warp


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

    context.user_modules.pop(module_name, None)
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
