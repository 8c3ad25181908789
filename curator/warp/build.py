"""Build a kernel with Warp's ModuleBuilder and cut its generated C++ (CPU) and CUDA code into
the stored pieces; the translation unit Warp would compile for stored pieces."""

from __future__ import annotations

import itertools
import linecache
import re
import sys
import time
import types
from dataclasses import dataclass, field

from curator.errors import WarpDriftError
from curator.records import DEVICES, PIECES
from curator.warp import CodegenError, fresh_function_numbering, init_warp

# Warp ends each line of its source comments with a "<L n>" marker after wide padding.  Both
# patterns start with a literal, which the regex engine finds fast; the padding is cut with
# rstrip and a file comment must start its line.  (The same rules written "[ \t]*<L \d+>[ \t]*$"
# and "^// ..." retried at every blank of the padding or at every character: 3 ms a kernel.)
_LINE_MARK = re.compile(r"<L \d+>[ \t]*$", re.MULTILINE)
# Warp marks each function with "// <source file>:<line>"; the file is a per-kernel temporary
# name here, so it is normalised to SOURCE_FILE.
_FILE_COMMENT = re.compile(r"// (?:<curator:[^>\n]*>|[^\n]*\.py):(\d+)$", re.MULTILINE)
SOURCE_FILE = "kernel.py"


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
    kept, pos = [], 0
    for mark in _LINE_MARK.finditer(code):  # the marker and the blanks on either side of it
        kept.append(code[pos : mark.start()].rstrip(" \t"))
        pos = mark.end()
    kept.append(code[pos:])
    return _FILE_COMMENT.sub(_source_file_comment, "".join(kept))


def _source_file_comment(match: re.Match) -> str:
    at = match.start()
    if at and match.string[at - 1] != "\n":  # not a comment line of its own: left as it is
        return match.group(0)
    return f"// {SOURCE_FILE}:{match.group(1)}"


def load_module(source: str, module_name: str) -> types.ModuleType:
    filename = f"<curator:{module_name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(module_name)
    module.__file__ = filename
    sys.modules[module_name] = module
    # dont_inherit: the module is compiled as Python imports it, not with this file's
    # ``from __future__ import annotations`` (closures over types in annotations resolve eagerly)
    exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
    _unique_exec_ids(module_name)
    return module


_EXEC_IDS = itertools.count(1)


def _unique_exec_ids(module_name: str) -> None:
    """Warp names a module's loaded CPU code ``wp_<module name>_<n>`` with ``n`` counted per
    Module object, so loading a module of the same name again (a kernel run twice in one process)
    reuses the name; when the first executable is garbage-collected late, its unload then removes
    the second's code, and the next launch jumps into unmapped memory (a segfault).  The count of
    every module curator loads starts from a process-wide counter instead."""
    from warp._src import context

    module = context.user_modules.get(module_name)
    if module is not None:
        module.cpu_exec_id = next(_EXEC_IDS) * 1_000_000


def release_module(module_name: str) -> None:
    """Forget everything Python and Warp keep for a generated module (memory stays flat)."""
    from warp._src import context

    module = context.user_modules.pop(module_name, None)
    if module is not None:
        module.unload()  # its loaded code goes now, not when the garbage collector gets to it
        # Warp links modules both ways (a kernel using warp.math registers as its dependent);
        # cut the edges or every generated module stays reachable from warp.math.
        for ref in tuple(module.references):
            ref.dependents.discard(module)
        module.references.clear()
    sys.modules.pop(module_name, None)
    linecache.cache.pop(f"<curator:{module_name}>", None)


# The block_dim of the stored code (and of the header module_source puts before it): CPU launches
# compile with 1; CUDA code is what Warp compiles for a GPU launch with Warp's default, 256, also
# for a real kernel whose module sets another default (its header would otherwise not match it).
BLOCK_DIM = {"cpu": 1, "cuda": 256}


def build_options(module, device: str) -> dict:
    wp = init_warp()
    return module.resolve_options(wp.config, block_dim=BLOCK_DIM[device]) | {"output_arch": None}


def _warp_module_code(builder, device: str) -> tuple[str, str, str, str]:
    """(the module source Warp writes to its kernel cache for this builder, its @wp.func code, the
    kernel's code, the kernel's entry points): Warp's own ``ModuleBuilder.codegen``, so the order of
    functions (custom adjoints before the adjoints calling them), tile helpers of structs and the
    like are Warp's.  The parts are recorded as Warp makes them (one pass, nothing generated twice)."""
    from warp._src import codegen

    parts: dict[str, list[str]] = {"functions": [], "kernel": [], "entry": []}
    calls = {"kernel": codegen.codegen_kernel, "entry": codegen.codegen_module}
    codegen_functions = builder._codegen_functions

    def recorder(key, fn):
        def recording(*args, **kwargs) -> str:
            parts[key].append(fn(*args, **kwargs))
            return parts[key][-1]

        return recording

    builder._codegen_functions = recorder("functions", codegen_functions)  # this builder only
    codegen.codegen_kernel, codegen.codegen_module = (
        recorder("kernel", calls["kernel"]),
        recorder("entry", calls["entry"]),
    )
    try:
        text = builder.codegen(device)
    finally:
        del builder._codegen_functions
        codegen.codegen_kernel, codegen.codegen_module = calls["kernel"], calls["entry"]
    if len(parts["kernel"]) != 1 or len(parts["entry"]) != 1:
        raise WarpDriftError("Warp's module source no longer holds one kernel's code")
    return text, "".join(parts["functions"]), parts["kernel"][0], parts["entry"][0]


def _split_kernel(kernel, device: str, options: dict, full: str) -> tuple[str, str, str]:
    """Split Warp's code of one kernel (``codegen_kernel``) into (args struct, forward, backward).

    Warp formats the backward template after the forward one, and that template starts with a
    blank line before the backward function's declaration, the only place its name is followed
    by "(" and a line break."""
    from warp._src import codegen

    args = full[: full.index("};\n") + 3] if device == "cpu" else ""
    if not (options | kernel.options)["enable_backward"]:
        return args, full[len(args) :], ""
    backward = f"{kernel.get_mangled_name()}_cpu_kernel_backward"
    declared = (backward if device == "cpu" else codegen.cuda_kernel_backward_name(kernel)) + "(\n"
    at = full.find(declared)
    start = full.rfind("\n\n", len(args), at) if at >= 0 else -1
    if start < 0 or full.count(declared) != 1:
        raise WarpDriftError("Warp's kernel code no longer splits into args/forward/backward")
    return args, full[len(args) : start], full[start:]


def _pieces(builder, kernel, device: str, options: dict) -> dict[str, str]:
    """The stored pieces, cut from the module source Warp itself generates for this one kernel."""
    from warp._src import codegen

    builder.options = options
    text, functions, full, entry = _warp_module_code(builder, device)
    body = text[text.index(codegen.codegen_cast_macros) + len(codegen.codegen_cast_macros) :]
    args, forward, backward = _split_kernel(kernel, device, options, full)
    before = body[: len(body) - len(full) - len(entry)]
    if not body.endswith(full + entry) or not before.endswith(functions):
        raise WarpDriftError("Warp's module source no longer splits into the stored pieces")
    raw = {
        "structs": before[: len(before) - len(functions)],
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
    module_header = codegen.cpu_module_header if device == "cpu" else codegen.cuda_module_header
    header = module_header.format(block_dim=BLOCK_DIM[device])
    return header + codegen.codegen_cast_macros


def generate(source: str, kernel_name: str, module_name: str, devices=DEVICES) -> dict[str, Artifact]:
    """Build ``kernel_name`` from ``source`` once and generate its code for each device.

    Raises CodegenError (stage ``import``, ``build`` or ``codegen``) on failure.  The module is
    always released afterwards.
    """
    # Warp numbers @wp.func native names with a process-global counter (helper_0, helper_1, ...):
    # the kernel is built with the counters of a fresh process, whatever this one built before.
    with fresh_function_numbering():
        try:
            t0 = time.perf_counter()
            try:
                module = load_module(source, module_name)
                kernel = getattr(module, kernel_name)
            except Exception as exc:
                raise CodegenError("import", exc) from exc
            return generate_for_kernel(kernel, devices, started=t0)
        finally:
            release_module(module_name)


def generate_for_kernel(kernel, devices=DEVICES, started: float | None = None) -> dict[str, Artifact]:
    """Generate code for an existing ``wp.Kernel`` object (e.g. one imported from a real
    module) for each device.  One build serves both devices unless the kernel's types depend
    on the launch's ``block_dim`` (tiles): then the CPU code comes from a build with the CPU
    launch's options (``block_dim=1``), as Warp compiles it at CPU launch.  Raises CodegenError."""
    wp = init_warp()

    t0 = started if started is not None else time.perf_counter()
    wmodule = kernel.module
    try:
        if getattr(kernel, "is_generic", False):
            raise TypeError("generic kernel (no concrete overload to generate)")
        builder = _builder(kernel, "cuda")
        per_device = "cpu" in devices and _depends_on_block_dim(builder, kernel)
    except Exception as exc:
        raise CodegenError("build", exc) from exc
    build_ms = (time.perf_counter() - t0) * 1000
    out = {}
    for device in devices:
        t1 = time.perf_counter()
        try:
            if per_device:  # the kernel's adjoint holds the types of its last build: rebuild
                builder = _builder(kernel, device)
        except Exception as exc:
            raise CodegenError("build", exc) from exc
        try:
            pieces = _pieces(builder, kernel, device, build_options(wmodule, device))
        except Exception as exc:
            raise CodegenError("codegen", exc) from exc
        ms = build_ms / len(devices) + (time.perf_counter() - t1) * 1000
        out[device] = Artifact(device, pieces, ms, wp.config.version)
    return out


def _builder(kernel, device: str):
    """A ModuleBuilder of this one kernel with ``device``'s launch options (and the kernel hash
    Warp gives it under them)."""
    from warp._src import context

    options = build_options(kernel.module, device)
    return context.ModuleBuilder(kernel.module, options, hasher=single_kernel_hasher(kernel, device))


def _depends_on_block_dim(builder, kernel) -> bool:
    """Whether the build holds tile values, whose types are sized by ``block_dim``."""
    from warp._src.types import is_tile

    adjoints = [kernel.adj] + [f.adj for f in builder.functions if getattr(f, "adj", None) is not None]
    return any(is_tile(v.type) for adj in adjoints for v in adj.variables)


def single_kernel_hasher(kernel, device: str = "cuda"):
    """A ModuleHasher over this one kernel, so a module's other kernels are not built too; the
    options are those of a launch on ``device`` (CPU launches use ``block_dim=1``)."""
    from warp._src import context

    wp = init_warp()
    return context.ModuleHasher([kernel], kernel.module.resolve_options(wp.config, block_dim=BLOCK_DIM[device]))


def module_source(device: str, pieces: dict[str, str]) -> str:
    """The complete translation unit Warp would compile for one kernel's stored pieces."""
    body = "".join(pieces[p] for p in PIECES)
    type_defines = "" if "bfloat16" in body else "#define WP_NO_BFLOAT16\n"
    return type_defines + module_header(device) + body
