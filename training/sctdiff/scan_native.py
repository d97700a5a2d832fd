"""The selective scan as a compiled CPU op with its own backward (csrc/selective_scan_cpu.cpp).

Training on a CPU spends most of its time in the decoder's sequential scan: the Python
definition (sctdiff.scan.selective_scan_sequential) runs ~6 tensor ops per time step, per
direction, per Mamba layer, and autograd records every one. The compiled op does one pass per
(row, channel) forward and one reverse pass backward, and keeps the states for it.

The op is built on first use with torch.utils.cpp_extension (g++, ninja and libtorch-dev's
headers; about a minute, cached afterwards under $TORCH_EXTENSIONS_DIR or ~/.cache). Where it
cannot be built `available()` is False and callers keep the Python scan.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import torch

_SOURCE = Path(__file__).with_name("csrc") / "selective_scan_cpu.cpp"
_module = None
_error: Optional[str] = None


def load():
    """The compiled module (built on first call); raises RuntimeError when it cannot be built."""
    global _module, _error
    if _module is not None:
        return _module
    if _error is not None:
        raise RuntimeError(_error)
    try:
        from torch.utils.cpp_extension import load as load_extension

        flags = ["-O3", "-ffast-math"]  # fast-math: vector expf (glibc libmvec), reassociated sums
        if os.environ.get("SCT_DIFF_SCAN_PORTABLE") != "1":
            flags.append("-march=native")  # built on the machine that trains
        _module = load_extension(name="sctdiff_selective_scan_cpu", sources=[str(_SOURCE)],
                                 extra_cflags=flags, verbose=False)
    except Exception as exc:  # noqa: BLE001 - any build failure means "use the Python scan"
        _error = (f"Could not build the CPU selective-scan op ({type(exc).__name__}: {exc}). "
                  "It needs g++, ninja (ninja-build) and torch's C++ headers (libtorch-dev).")
        raise RuntimeError(_error) from exc
    return _module


def available() -> bool:
    """Whether the compiled op can be used (builds it on first call)."""
    try:
        load()
        return True
    except RuntimeError:
        return False


class _SelectiveScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, delta, A, B_in, C_in, D, z):  # noqa: D401 - autograd signature
        module = load()
        has_z = z is not None
        inputs = [t.contiguous().float() for t in (u, delta, A, B_in, C_in, D)]
        z_in = z.contiguous().float() if has_z else inputs[0].new_empty(0)
        y, y_pre, states = module.forward(*inputs, z_in, has_z)
        ctx.has_z = has_z
        ctx.save_for_backward(*inputs, z_in, y_pre, states)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        u, delta, A, B_in, C_in, D, z, y_pre, states = ctx.saved_tensors
        du, ddelta, dA, dB, dC, dD, dz = load().backward(grad_y.contiguous().float(), u, delta, A, B_in, C_in, D,
                                                          z, ctx.has_z, y_pre, states)
        return du, ddelta, dA, dB, dC, dD, (dz if ctx.has_z else None)


def selective_scan_native(u, delta, A, B_in, C_in, D, z=None):
    """Same contract and result as sctdiff.scan.selective_scan_sequential (float32, CPU tensors)."""
    return _SelectiveScan.apply(u, delta, A, B_in, C_in, D, z)
