"""Selective scan (Mamba's `selective_scan_ref` semantics) in two equivalent forms.

Shapes (batch-first, sequence on dim 1 so slicing a time step is cheap):
  u, delta, z: [B, L, E]   B_in, C_in: [B, L, N]   A: [E, N]   D: [E]
  delta is already softplus-ed (dt in docs/model.md); the result y is [B, L, E].

Recurrence (the definition):
  h_0 = 0
  h_l = exp(delta_l * A) * h_{l-1} + delta_l * B_l * u_l          [B, E, N]
  y_l = sum_n C_l[n] h_l[:, n] + D * u_l;  y_l *= SiLU(z_l) when z is given
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F


def _finish(y: torch.Tensor, u: torch.Tensor, D: torch.Tensor, z: Optional[torch.Tensor]) -> torch.Tensor:
    y = y + u * D
    if z is not None:
        y = y * F.silu(z)
    return y


def selective_scan_sequential(u, delta, A, B_in, C_in, D, z=None):
    """The definition: one time step after the other (what the C++ engines implement)."""
    batch, length, inner = u.shape
    h = u.new_zeros(batch, inner, A.shape[1])
    outputs = []
    for step in range(length):
        dt = delta[:, step, :, None]  # [B, E, 1]
        decay = torch.exp(dt * A)  # [B, E, N]
        drive = dt * B_in[:, step, None, :] * u[:, step, :, None]  # [B, E, N]
        h = decay * h + drive
        outputs.append((h * C_in[:, step, None, :]).sum(-1))  # [B, E]
    return _finish(torch.stack(outputs, dim=1), u, D, z)


def selective_scan_chunked(u, delta, A, B_in, C_in, D, z=None, chunk: int = 64):
    """Same result, parallel within chunks of `chunk` steps, sequential carry across chunks.

    Within a chunk the decay products are exp(cumsum(delta * A)) (log-space cumulative sum:
    only exponentials of non-positive numbers, so nothing overflows), and the driven part
    is a Hillis-Steele doubling scan of the pairs (a, b) under
    (a0, b0) o (a1, b1) = (a1 a0, a1 b0 + b1), which needs log2(chunk) vector steps. The
    state entering the chunk is carried in as h_l = P_l * h_in + b_l.
    """
    batch, length, inner = u.shape
    h = u.new_zeros(batch, inner, A.shape[1])
    outputs = []
    for start in range(0, length, chunk):
        stop = min(start + chunk, length)
        dA = delta[:, start:stop, :, None] * A  # [B, Lc, E, N], <= 0
        b = delta[:, start:stop, :, None] * B_in[:, start:stop, None, :] * u[:, start:stop, :, None]
        a = torch.exp(dA)
        span = stop - start
        shift = 1
        while shift < span:
            # b_l <- a_l * b_{l-shift} + b_l ; a_l <- a_l * a_{l-shift} (prefix products).
            b = torch.cat([b[:, :shift], a[:, shift:] * b[:, :-shift] + b[:, shift:]], dim=1)
            a = torch.cat([a[:, :shift], a[:, shift:] * a[:, :-shift]], dim=1)
            shift *= 2
        prefix = torch.exp(torch.cumsum(dA, dim=1))  # equals a, but without doubling round-off
        states = prefix * h[:, None] + b  # [B, Lc, E, N]
        outputs.append((states * C_in[:, start:stop, None, :]).sum(-1))
        h = states[:, -1]
    return _finish(torch.cat(outputs, dim=1), u, D, z)


def selective_scan(u, delta, A, B_in, C_in, D, z=None, mode: str = "chunked", chunk: int = 64):
    """Dispatch by `mode`: "sequential" is the definition, "chunked" the fast form on a GPU,
    "native" the compiled CPU op with its own backward (sctdiff.scan_native; training on a CPU)."""
    if mode == "native":
        from .scan_native import selective_scan_native

        return selective_scan_native(u, delta, A, B_in, C_in, D, z)
    if mode == "sequential":
        return selective_scan_sequential(u, delta, A, B_in, C_in, D, z)
    if mode == "chunked":
        return selective_scan_chunked(u, delta, A, B_in, C_in, D, z, chunk=chunk)
    raise ValueError(f"Expected scan mode 'sequential', 'chunked' or 'native' but received {mode!r}")
