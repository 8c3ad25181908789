"""What runs inside an eval worker process: its limits (address space, file size, CPU time per
task), its own folder as cwd and TMPDIR, stdio to a log in that folder, Warp initialised once;
then compile a translation unit, or launch a kernel from an object file.  The process holds no
reference outputs: the driver compares."""

from __future__ import annotations

import os
import resource
import signal
import tempfile

_STATE: dict = {}
LOG = "stdio.log"


def start(work: str, address_bytes: int, file_bytes: int) -> None:
    """The initializer: folder, quiet stdio, Warp, compilers; the limits last (Warp's own start
    maps more than a prediction may).  ``address_bytes`` is a backstop on the address space; the
    driver watches the resident memory, the limit that names itself."""
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it: a write past the limit would just fail
    os.chdir(work)
    tempfile.tempdir = work
    os.environ["TMPDIR"] = work
    log = os.open(os.path.join(work, LOG), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    import warp as wp

    from curator.warp import init_warp

    cache = os.path.join(work, "cache")
    os.makedirs(cache, exist_ok=True)
    wp.config.kernel_cache_dir = cache
    wp.config.optimization_level = 0
    init_warp()
    _STATE.update(work=work, compilers={}, n=0)
    _warm_up()
    if address_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (_mapped_bytes() + address_bytes, resource.RLIM_INFINITY))
    if file_bytes:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, resource.RLIM_INFINITY))


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _warm_up() -> None:
    """Compile an empty unit: the precompiled header is built now, not in a prediction's time."""
    from curator.records import PIECES
    from curator.warp.build import module_source

    compiler = _compiler("cpu")
    compiler.compile(module_source("cpu", dict.fromkeys(PIECES, "")))
    compiler.keep_precompiled_header()  # a prediction that does not compile removes it


def _compiler(device: str):
    from curator.warp.compile import DRIVER_FLAGS, Compiler

    compilers = _STATE["compilers"]
    if device not in compilers:
        if device == "cpu":  # -O0, as `verify --execute` runs kernels
            compilers[device] = Compiler("cpu", mode="fast", workdir=_STATE["work"], extra_flags=DRIVER_FLAGS)
        else:
            compilers[device] = Compiler("cuda", mode="full", workdir=_STATE["work"])
    return compilers[device]


def cpu_budget(seconds: float) -> None:
    """The next task may use ``seconds`` of CPU time (SIGXCPU ends the process past it)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (int(spent + seconds) + 1, hard))


def compile_unit(device: str, pieces: dict, cpu_seconds: float) -> tuple[bool, str, str | None]:
    """(compiled, diagnostics, object file) of the translation unit of ``pieces``."""
    from curator.warp.build import module_source

    cpu_budget(cpu_seconds)
    _STATE["n"] += 1
    out = os.path.join(_STATE["work"], f"unit_{_STATE['n']}.{'o' if device == 'cpu' else 'ptx'}")
    source = module_source(device, pieces)
    result = _compiler(device).compile(source, output=out)
    if not result.ok:
        return False, result.diagnostics.strip()[:2000], None
    if device == "cuda":  # Warp compiles the source again for the GPU it launches on
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(source)
    return True, "", out


def compile_batch(device: str, units: list[dict], cpu_seconds: float) -> str | None:
    """One CPU object of many records' stored code (``curator.warp.compile.batch_source``: each in
    a namespace of its own, entry points unchanged), or None if it does not compile."""
    from curator.warp.compile import batch_source

    if device != "cpu":
        return None
    cpu_budget(cpu_seconds * max(1, len(units) // 4))
    _STATE["n"] += 1
    out = os.path.join(_STATE["work"], f"batch_{_STATE['n']}.o")
    source, _ = batch_source(device, units)
    return out if _compiler(device).compile(source, output=out).ok else None


def launch_kept(record: dict, obj: str, seeds: list[int], modes: tuple[str, ...], cpu_seconds: float):
    """``launch`` of a batch object, which stays for the batch's other records."""
    from curator.warp.evaluate import NotRunnable, kernel_outputs

    cpu_budget(cpu_seconds)
    try:
        return "ran", {m: kernel_outputs(record, obj, seeds, m) for m in modes}
    except NotRunnable as exc:
        return "not-runnable", str(exc)


def remove(path: str, cpu_seconds: float) -> None:
    if os.path.exists(path):
        os.unlink(path)


def launch(record: dict, obj: str, seeds: list[int], modes: tuple[str, ...], cpu_seconds: float):
    """('ran', mode -> per-seed arrays) or ('not-runnable', why): the kernel built from ``obj``
    (a CPU object file; for CUDA the unit's source, built by Warp for the GPU) launched for each
    of ``modes`` (inputs, forward, backward: ``curator.warp.evaluate``)."""
    from curator.warp.evaluate import NotRunnable, kernel_outputs

    cpu_budget(cpu_seconds)
    try:
        if obj.endswith(".o"):
            return "ran", {m: kernel_outputs(record, obj, seeds, m) for m in modes}
        with open(obj, encoding="utf-8") as fh:
            unit = fh.read()
        return "ran", {m: kernel_outputs(record, unit, seeds, m, "cuda:0") for m in modes}
    except NotRunnable as exc:
        return "not-runnable", str(exc)
    finally:
        if os.path.exists(obj):
            os.unlink(obj)


def ping() -> int:
    return os.getpid()
