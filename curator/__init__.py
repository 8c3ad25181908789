"""curator: paired datasets of NVIDIA Warp kernels and the C++/CUDA code Warp generates."""

__version__ = "0.1.0"
