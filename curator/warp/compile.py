"""Compile stored code with the compilers Warp bundles: its Clang/LLVM for CPU C++ (what
``warp._src.build.build_cpu`` calls) and NVRTC for CUDA C++ (``build_cuda``), with Warp's
default release options; many kernels per translation unit, diagnostics split per kernel."""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass
from importlib import metadata

from curator.records import DEVICES, PIECES
from curator.warp import DEFAULT_ARCH, init_warp, warp_runtime
from curator.warp.build import module_header
from curator.warp.modes import MODES

# What the Clang driver adds to every release-build compile, which Warp (calling Clang's cc1
# directly) does not: skip the IR verifier and drop local value names.  The object code is byte
# for byte the same (tests/integration/test_verify.py); a -O0 batch compiles 5-7 % faster.
DRIVER_FLAGS = ("-disable-llvm-verifier", "-discard-value-names")
BATCH_PREFIX = "curator_k"  # namespace of the i-th kernel in a batch translation unit
_DIAG_LINE = re.compile(r"^kernel\.(?:cpp|cu)(?::|\()(\d+)")
_PCH_NOTE = re.compile(r'^"kernel\.cu": (?:using|creating) precompiled header file ')


@dataclass
class CompileResult:
    """One compiler call: did it succeed, what it printed, how long it took."""

    ok: bool
    diagnostics: str
    ms: float


def compiler_identity(device: str, arch: int = DEFAULT_ARCH, mode: str = "full") -> tuple[str, str]:
    """(compiler, options) as recorded with a verification, e.g. ("nvrtc 13.4 (warp 1.19.0)",
    "sm_86 ptx -O3 ...").  A rerun skips kernels verified under the same pair."""
    opts = MODES[mode]
    wp = init_warp()
    rt = warp_runtime()
    if device == "cpu":
        if rt.llvm is None:
            raise RuntimeError("Warp's CPU compiler (warp-clang) is not available")
        compiler = f"clang {rt.get_llvm_version()} (warp {wp.config.version})"
        return compiler, " ".join((f"-O{opts.cpu_opt}", "block_dim=1", *_cpu_flags()))
    if arch not in rt.nvrtc_supported_archs:
        archs = ", ".join(str(a) for a in sorted(rt.nvrtc_supported_archs)) or "none"
        raise ValueError(f"NVRTC cannot compile for sm_{arch} (supported: {archs})")
    major, minor = rt.toolkit_version
    if opts.cuda_syntax_only:
        from curator.warp import nvrtc

        package = metadata.version("nvidia-cuda-nvrtc")
        return (
            f"nvrtc {nvrtc.version()} (nvidia-cuda-nvrtc {package}, as warp {wp.config.version})",
            f"sm_{arch} {nvrtc.SYNTAX_ONLY} block_dim=256",
        )
    return f"nvrtc {major}.{minor} (warp {wp.config.version})", f"sm_{arch} ptx -O{opts.cuda_opt} block_dim=256"


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

    def __init__(
        self,
        device: str,
        arch: int = DEFAULT_ARCH,
        workdir: str | None = None,
        mode: str = "full",
        extra_flags: tuple[str, ...] = (),
    ):

        import tempfile

        init_warp()
        from warp._src import build

        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}")
        self.device, self.arch, self.mode = device, arch, MODES[mode]
        self.compiler, self.options = compiler_identity(device, arch, mode)
        self._tmp = tempfile.TemporaryDirectory(prefix="curator_verify_", dir=workdir)
        self._rt = warp_runtime()
        self._include = os.path.join(build.warp_home, "native").encode()
        self._pch = os.path.join(self._tmp.name, "pch")
        os.makedirs(self._pch, exist_ok=True)
        self._flags = [f.encode() for f in (*_cpu_flags(), *extra_flags)] if device == "cpu" else []
        if extra_flags:
            self.options = " ".join((self.options, *extra_flags))
        self._nvrtc_options: list[str] | None = None

    def close(self) -> None:
        self._tmp.cleanup()

    def compile(self, source: str, output: str | None = None) -> CompileResult:
        """Compile one translation unit; never raises for a compile error.  ``output``: where to
        keep the object file / PTX (by default it is discarded; the front-end-only mode has none)."""
        if self.device == "cuda" and self.mode.cuda_syntax_only:
            return self._front_end(source)
        return self._compile(source, output)

    def keep_precompiled_header(self) -> None:
        """From now on, put back the CPU precompiled header a failed compile removes.  Warp's Clang
        deletes it when a unit does not compile (and retries without it), so the next good unit
        rebuilds it: 1.8 CPU s instead of 0.25 on a kernel of the small release.  A copy taken
        after a good compile with this compiler's flags is what it would rebuild.  For callers
        whose units often fail (`curator eval`: a model's predictions)."""
        import shutil

        self._pch_copy = os.path.join(self._tmp.name, "pch-kept")
        shutil.rmtree(self._pch_copy, ignore_errors=True)
        shutil.copytree(self._pch, self._pch_copy)

    def _restore_precompiled_header(self) -> None:
        import shutil

        copy = getattr(self, "_pch_copy", None)
        if copy and os.listdir(copy) and not os.listdir(self._pch):
            for name in os.listdir(copy):
                shutil.copy2(os.path.join(copy, name), os.path.join(self._pch, name))

    def _front_end(self, source: str) -> CompileResult:
        from curator.warp import nvrtc

        if self._nvrtc_options is None:
            self._nvrtc_options = [*nvrtc.warp_options(self.arch, self.mode.cuda_opt), nvrtc.SYNTAX_ONLY]
        t0 = time.perf_counter()
        r = nvrtc.compile_program(source, self._nvrtc_options)
        return CompileResult(r.ok, r.log, (time.perf_counter() - t0) * 1000)

    def _compile(self, source: str, output: str | None) -> CompileResult:
        import tempfile

        out = output or os.path.join(self._tmp.name, "out.o" if self.device == "cpu" else "out.ptx")
        src = source.encode()
        with tempfile.TemporaryFile(dir=self._tmp.name) as log:
            sys.stderr.flush()
            saved = os.dup(2)
            os.dup2(log.fileno(), 2)
            t0 = time.perf_counter()
            try:
                err = self._clang(src, out) if self.device == "cpu" else self._nvrtc(src, out)
            finally:
                ms = (time.perf_counter() - t0) * 1000
                os.dup2(saved, 2)
                os.close(saved)
            log.seek(0)
            diagnostics = log.read().decode(errors="replace")
        if output is None and os.path.exists(out):
            os.unlink(out)
        # NVRTC names the precompiled header it made or used; that says nothing about the kernel.
        diagnostics = "".join(ln for ln in diagnostics.splitlines(True) if not _PCH_NOTE.match(ln))
        # A failed CPU compile is retried without the precompiled header; keep that retry's
        # messages only (the same errors, printed twice otherwise).
        retry = "retrying without precompiled headers\n"
        if retry in diagnostics:
            diagnostics = diagnostics.split(retry, 1)[1]
        if err != 0 and self.device == "cpu":
            self._restore_precompiled_header()
        return CompileResult(err == 0, diagnostics, ms)

    def _clang(self, src: bytes, out: str) -> int:
        import ctypes

        flags = (ctypes.c_char_p * (len(self._flags) + 1))(*self._flags, None)
        # (src, file, include, output, debug, verify_fp, fuse_fp, tiles_in_stack,
        #  flags, opt, verbose, use_pch, pch_dir, block_dim) as in build.build_cpu
        return self._rt.llvm.wp_compile_cpp(
            src,
            b"kernel.cpp",
            self._include,
            out.encode(),
            False,
            False,
            True,
            True,
            flags,
            self.mode.cpu_opt,
            False,
            True,
            self._pch.encode(),
            1,
        )

    def _nvrtc(self, src: bytes, out: str) -> int:
        # as in build.build_cuda: release, -O3 (full), no fast math, fused fp, PTX output;
        # NVRTC 13 keeps its precompiled headers itself (pch_dir None).
        return self._rt.core.wp_cuda_compile_program(
            src,
            b"kernel.cu",
            self.arch,
            b"",
            self._include,
            0,
            None,
            False,
            self.mode.cuda_opt,
            False,
            False,
            False,
            True,
            False,
            False,
            True,
            out.encode(),
            None,
            0,
            None,
            None,
            None,
        )
