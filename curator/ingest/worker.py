"""The isolated ingest worker: a spawned process that imports one module at a time, finds the
kernels it defines, generates their code and sends back records.  Importing runs the module's
top-level code, so it happens here, never in the command's own process; the driver kills and
respawns this process when a module hangs or crashes it."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import re
import sys
import textwrap
from collections.abc import Iterator

from curator.ingest.discover import KernelDef, ModuleJob
from curator.neardup import sign_record
from curator.records import FailureRecord, kernel_id, make_record

# Reasons a kernel definition is skipped (the failures table's exc_type for stage ingest-skip).
FACTORY = "factory-not-instantiated"
NOT_CREATED = "not-created-at-import"
GENERIC = "generic-without-overloads"
# PTX inline assembly (an instruction with dotted type suffixes: ``asm volatile("mov.u32 %0, ...")``),
# pasted by Warp from a ``wp.func_native`` snippet into the code of every device: no CPU can
# assemble it (Warp's Clang aborts on it), so the kernel targets CUDA only.
PTX_ASM = re.compile(r'\basm\s*(?:volatile\s*)?\(\s*"\s*[a-z]+(?:\.[a-z0-9]+)+\s')


_setup: tuple = ((), frozenset())  # (devices, ids stored for all of them), set by init


def init(devices: tuple[str, ...], have: frozenset[str]) -> None:
    """A worker process (supervised, stdout/stderr quiet: imported modules print): Warp initialised
    once; ``have``: the kernels stored for every device, which need no code generated again."""
    global _setup
    from curator.warp import init_warp

    init_warp()
    _setup = (devices, have)


def process_job(job: ModuleJob):
    """The task of a worker: the messages of one module (``process``)."""
    yield from process(job, *_setup)


def _import(job: ModuleJob):
    """Import the job's module by its dotted name (so relative imports work), or from its file
    under a private name when that name is taken by another file."""
    if job.root not in sys.path:
        sys.path.insert(0, job.root)
    module = importlib.import_module(job.module)
    if os.path.realpath(getattr(module, "__file__", "") or "") == os.path.realpath(job.path):
        return job.module, module
    digest = hashlib.sha256(job.path.encode()).hexdigest()[:8]
    name = f"curator_ingest_{digest}_{job.module.replace('.', '_')}"
    spec = importlib.util.spec_from_file_location(name, job.path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {job.path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return name, module


def _text(obj) -> str | None:
    try:
        return textwrap.dedent(inspect.getsource(obj)).strip("\n")
    except (OSError, TypeError):
        return None


def kernel_source(kernel) -> tuple[str, int]:
    """What a training pair shows for a real kernel: the ``@wp.struct`` classes and ``@wp.func``
    helpers its build uses (Warp's dependency order), then the kernel itself, each as written.
    Returns (source, number of helpers whose source could not be read)."""
    from curator.warp import registry

    structs, funcs = registry.kernel_dependencies(kernel)
    parts: list[str] = []
    missing = 0
    for obj in [*structs, *funcs]:
        text = _text(obj)
        if text is None:
            missing += 1
        elif text not in parts:
            parts.append(text)
    own = _text(kernel.func)
    if own is None:
        raise OSError("the kernel's source is not available")
    if own in parts:
        parts.remove(own)
    return "\n\n\n".join([*parts, own]) + "\n", missing


def _generate(kernel, devices: tuple[str, ...]) -> tuple[dict, list]:
    """Code for every device from one build; when that fails, each device on its own, so a
    kernel Warp can only generate for CUDA (``wp.tile_fft``) is kept with its CUDA code.
    Returns (artifacts by device, CodegenErrors of the devices that failed)."""
    from curator.warp import CodegenError, build

    try:
        return build.generate_for_kernel(kernel, devices), []
    except CodegenError as exc:
        if len(devices) == 1:
            return {}, [exc]
    arts, errors = {}, []
    for device in devices:
        try:
            arts.update(build.generate_for_kernel(kernel, (device,)))
        except CodegenError as exc:
            exc.message = f"{device}: {exc.message}"
            errors.append(exc)
    return arts, errors


class PTXInlineAssembly(Exception):
    """Generated CPU code that holds PTX inline assembly (see PTX_ASM)."""


def _skip(job: ModuleJob, d: KernelDef, reason: str, detail: str) -> FailureRecord:
    return FailureRecord(
        kernel_id(f"{job.rel}:{d.line}:{d.qualname}"),
        None,
        None,
        "ingest-skip",
        reason,
        f"{job.rel}:{d.line} {d.qualname}: {detail}",
        d.source,
    )


def process(job: ModuleJob, devices: tuple[str, ...], have: frozenset[str]) -> Iterator[tuple]:
    """Messages for one module: ("import-failed", exc_type, message), ("kernel", KernelRecord),
    ("have", id), ("failure", FailureRecord) and ("skip", reason) per kernel definition."""
    from curator.warp import registry

    saved = registry.config_snapshot()
    try:
        try:
            _import(job)
        except (Exception, SystemExit) as exc:  # any import error is recorded, never fatal
            yield ("import-failed", type(exc).__name__, str(exc)[:2000])
            return
        kernels = registry.kernels_from_file(job.path)
        by_line: dict[int, list] = {}
        for k in kernels:
            by_line.setdefault(k.func.__code__.co_firstlineno, []).append(k)
        defs = list(job.defs)
        known = {d.line for d in defs}
        for line, ks in sorted(by_line.items()):
            if line not in known:  # e.g. wp.Kernel(func) without the decorator
                f = ks[0].func
                defs.append(KernelDef(f.__qualname__, line, "<locals>" in f.__qualname__, _text(f) or ""))
        seen: set[str] = set()
        for d in defs:
            yield from _process_def(job, d, by_line.get(d.line, []), devices, have, seen)
    finally:
        registry.config_restore(saved)
        # Imported modules stay loaded: unloading one (warp.sparse, a package) and importing it
        # again breaks Warp's registries.  Memory stays flat because the driver replaces the
        # worker every RESTART_EVERY modules.


def _process_def(job, d: KernelDef, instances: list, devices, have, seen: set[str]) -> Iterator[tuple]:
    from curator.warp import registry

    if not instances:
        reason, detail = (
            (FACTORY, "defined inside a function the module did not call at import")
            if d.nested
            else (NOT_CREATED, "no kernel object exists after importing the module")
        )
        yield ("failure", _skip(job, d, reason, detail))
        yield ("skip", reason)
        return
    # instances with the same source get one id and the first is stored: the order is by what
    # tells them apart (closure values, overload signature), not the order Warp lists them in
    concrete = sorted(
        (c for k in instances for c in registry.concrete_kernels(k)),
        key=lambda c: (registry.instance_order(c), registry.kernel_signature(c)),
    )
    if not concrete:
        yield ("failure", _skip(job, d, GENERIC, "generic kernel that the module gives no wp.overload for"))
        yield ("skip", GENERIC)
        return
    for kernel in concrete:
        yield from _process_kernel(job, d, kernel, devices, have, seen)


def _process_kernel(job, d: KernelDef, kernel, devices, have, seen: set[str]) -> Iterator[tuple]:
    """Messages for one concrete kernel instance of a definition."""
    from curator.ingest import categorize
    from curator.warp import CodegenError, registry
    from curator.warp.calls import recording_builtin_calls, signatures_of_calls
    from curator.warp.numbering import stored_source_numbering

    try:
        source, missing = kernel_source(kernel)
    except (CodegenError, OSError) as exc:
        stage = "ingest-codegen" if isinstance(exc, CodegenError) else "ingest-skip"
        exc_type = exc.exc_type if isinstance(exc, CodegenError) else type(exc).__name__
        fid = kernel_id(f"{job.rel}:{d.line}:{d.qualname}:{registry.kernel_signature(kernel)}")
        message = f"{job.rel}:{d.line} {d.qualname}: {exc}"[:4000]
        yield ("failure", FailureRecord(fid, None, None, stage, exc_type, message, d.source))
        yield ("skip", "codegen-failed" if stage == "ingest-codegen" else "source-unavailable")
        return
    kid = kernel_id(source)
    if kid in seen:
        yield ("instance", kid)  # another instance with the same source: one pair is enough
        return
    seen.add(kid)
    if kid in have:
        yield ("have", kid)
        return
    category = categorize.categorize(source)
    # helpers named as a fresh process names them, not after the modules this worker imported before
    with recording_builtin_calls() as calls, stored_source_numbering(kernel):
        arts, errors = _generate(kernel, devices)
    if "cpu" in arts and PTX_ASM.search("".join(v for v in arts["cpu"].pieces.values() if v)):
        del arts["cpu"]
        why = PTXInlineAssembly("PTX inline assembly from a wp.func_native snippet: the kernel targets CUDA only")
        errors.append(CodegenError("codegen", why))
        errors[-1].message = f"cpu: {why}"
    for error in errors:
        message = f"{job.rel}:{d.line} {d.qualname}: {error.message}"[:4000]
        yield ("failure", FailureRecord(kid, category, None, "ingest-codegen", error.exc_type, message, source))
    if not arts:
        yield ("skip", "codegen-failed")
        return
    name = kernel.func.__name__
    yield (
        "kernel",
        sign_record(
            make_record(
                kid,
                name,
                category,
                source,
                arts,
                generator_version=None,
                seed=None,
                launch_dim=categorize.launch_dim(source, name),
                kernel_args=categorize.kernel_args(source, name),
                origin="real",
                provenance=_provenance(job, d, kernel, missing),
                builtin_signatures=signatures_of_calls(calls, source),
            )
        ),
    )


def _provenance(job, d: KernelDef, kernel, missing: int) -> dict:
    """Where a real kernel came from: file, line, qualified name, module, package."""
    from curator.warp import registry

    provenance = {
        "file": job.rel,
        "line": d.line,
        "qualname": d.qualname,
        "module": job.module,
        **{k: v for k, v in job.package.items() if k in ("name", "version", "license")},
    }
    if "name" in provenance:
        provenance["package"] = provenance.pop("name")
    if d.nested:
        provenance["factory"] = True
    if sig := registry.kernel_signature(kernel):
        provenance["overload"] = sig
    if missing:
        provenance["helpers_without_source"] = missing
    return provenance
