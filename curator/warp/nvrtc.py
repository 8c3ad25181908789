"""NVRTC's front end alone (``-fdevice-syntax-only``) for `curator verify --mode fast` on CUDA.

Warp links NVRTC statically and only exposes a whole compile (``wp_cuda_compile_program``: front
end, NVVM optimiser, PTX), in which the optimiser takes about 80 % of the time.  NVIDIA's
``nvidia-cuda-nvrtc`` wheel ships the same compiler as a shared library; pinned to the minor
version Warp bundles (checked at load), and given the options Warp passes
(``append_common_nvrtc_compile_options`` in Warp's ``native/warp.cu``, mirrored in
``warp_options``), it parses, type-checks and instantiates every template of a translation unit
exactly as Warp's own build would, and stops before NVVM.  ``tests/integration/test_nvrtc.py``
proves the mirror: a whole compile through this library gives byte-identical PTX to Warp's.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from importlib import metadata

from curator.errors import CuratorError
from curator.warp import init_warp, warp_runtime

SYNTAX_ONLY = "-fdevice-syntax-only"
_lib = None


class NvrtcUnavailable(CuratorError, RuntimeError):
    """The NVRTC library is missing or is not the version Warp bundles."""


def _library_path() -> str:
    try:
        files = metadata.files("nvidia-cuda-nvrtc") or []
    except metadata.PackageNotFoundError:
        raise NvrtcUnavailable("the nvidia-cuda-nvrtc package is not installed (pip install -e .)") from None
    for f in files:
        if f.name.startswith("libnvrtc.so"):
            return str(f.locate())
    raise NvrtcUnavailable("the nvidia-cuda-nvrtc package has no libnvrtc.so")


def library() -> ctypes.CDLL:
    """The NVRTC shared library, loaded once; its version must be the one Warp bundles."""
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(_library_path())
        lib.nvrtcGetErrorString.restype = ctypes.c_char_p
        major, minor = ctypes.c_int(), ctypes.c_int()
        lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
        bundled = warp_nvrtc_version()
        if (major.value, minor.value) != bundled:
            raise NvrtcUnavailable(
                f"nvidia-cuda-nvrtc is {major.value}.{minor.value} but Warp bundles NVRTC {bundled[0]}.{bundled[1]}"
            )
        _lib = lib
    return _lib


def warp_nvrtc_version() -> tuple[int, int]:
    init_warp()
    return tuple(warp_runtime().toolkit_version)


def version() -> str:
    major, minor = ctypes.c_int(), ctypes.c_int()
    library().nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    return f"{major.value}.{minor.value}"


def warp_options(arch: int, opt: int, ptx: bool = True) -> list[str]:
    """The options ``wp_cuda_compile_program`` gives NVRTC for a release build of a Warp module
    (Warp 1.19, CUDA 13.x: no texture workaround define on PTX; ``opt`` maps to --Ofast-compile
    as in Warp, 0 raised to ``mid`` on 13.1+), without ``-pch``."""
    init_warp()
    from warp._src import build

    fast = {0: "mid", 1: "mid", 2: "min"}.get(opt, "0")
    mathdx = int(bool(warp_runtime().core.wp_is_mathdx_enabled()))
    return [
        f"--gpu-architecture={'compute' if ptx else 'sm'}_{arch}",
        f"--include-path={os.path.join(build.warp_home, 'native')}",
        "--std=c++17",
        f"--Ofast-compile={fast}",
        "--define-macro=NDEBUG",
        "--undefine-macro=WP_VERIFY_FP",
        f"--define-macro=WP_ENABLE_MATHDX={mathdx}",
        "--fmad=true",
        "--device-as-default-execution-space",
        "--extra-device-vectorization",
        "--restrict",
        "--diag-suppress=177,550",
    ]


@dataclass
class NvrtcResult:
    ok: bool
    log: str
    ptx: bytes


def compile_program(source: str, options: list[str], name: str = "kernel.cu") -> NvrtcResult:
    """One nvrtcCompileProgram call; the PTX is returned unless ``SYNTAX_ONLY`` is among the
    options.  Never raises for a compile error (``ok`` is False and ``log`` says why)."""
    lib = library()
    prog = ctypes.c_void_p()
    err = lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), name.encode(), 0, None, None)
    if err:
        raise RuntimeError(f"nvrtcCreateProgram: {lib.nvrtcGetErrorString(err).decode()}")
    try:
        argv = (ctypes.c_char_p * len(options))(*(o.encode() for o in options))
        err = lib.nvrtcCompileProgram(prog, len(options), argv)
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        buf = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(prog, buf)
        ptx = b""
        if err == 0 and SYNTAX_ONLY not in options:
            lib.nvrtcGetPTXSize(prog, ctypes.byref(size))
            out = ctypes.create_string_buffer(size.value)
            lib.nvrtcGetPTX(prog, out)
            ptx = out.raw.rstrip(b"\0")
        return NvrtcResult(err == 0, buf.value.decode(errors="replace"), ptx)
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))
