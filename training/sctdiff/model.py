"""SCT-Diff reference network in plain PyTorch (torch 1.13 CPU and torch 2.x GPU).

Module attribute names are chosen so that `state_dict()` keys are exactly the weight names
of docs/model-contract.md (e.g. `encoder.blocks.0.attn.qkv.weight`,
`decoder.blocks.0.fuse_mamba.A_b_log`); renaming an attribute breaks every engine.

Stages (callable on their own so goldens can capture each one):
  preprocess (sctdiff.preprocess)   frame uint8 HWC + crop -> float32 CHW
  SCTDiff.encoder                   templates + search crops -> features [B, Hs, Ws, D]
  SCTDiff.decoder                   features [B, N, Hs, Ws, D] + prior tokens [B, N, 4]
                                    + timesteps [B, N] + noise [B, N, 4, d] -> logits [B, N, 6, V]
  decode_outputs                    logits -> argmax tokens, top-1 probabilities, frame scores
  SCTDiff.decode                    the inference decode with the engines' seeded noise
"""
from __future__ import annotations

import math
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint

from .config import DecoderConfig, EncoderConfig, ModelConfig
from .noise import trajectory_noise
from .scan import selective_scan
from .schedule import alphas_cumprod

# --------------------------------------------------------------------------------------------
# Encoder: OSTrack one-stream ViT


class Attention(nn.Module):
    """Full multi-head self-attention; qkv columns are [q | k | v], heads contiguous in each."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        head_dim = dim // self.heads
        qkv = self.qkv(x).reshape(batch, length, 3, self.heads, head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # [B, H, L, Dh]
        if hasattr(F, "scaled_dot_product_attention") and x.is_cuda:
            # torch 2.x on the GPU: fused kernel, same math (training speed only).
            out = F.scaled_dot_product_attention(q, k, v)
        else:
            weights = torch.softmax((q @ k.transpose(-2, -1)) / math.sqrt(head_dim), dim=-1)
            out = weights @ v
        return self.proj(out.transpose(1, 2).reshape(batch, length, dim))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: x += attn(LN1(x)); x += mlp(LN2(x))."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.dim, eps=cfg.ln_eps)
        self.attn = Attention(cfg.dim, cfg.heads)
        self.norm2 = nn.LayerNorm(cfg.dim, eps=cfg.ln_eps)
        self.mlp = Mlp(cfg.dim, cfg.mlp)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Encoder(nn.Module):
    """[z0 | z1 | x] patch tokens through a plain ViT; returns the search tokens [B, Hs, Ws, D]."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.cfg = cfg
        self.patch_embed = nn.Conv2d(3, cfg.dim, kernel_size=cfg.patch, stride=cfg.patch)
        self.pos_embed_z = nn.Parameter(torch.zeros(cfg.template_grid ** 2, cfg.dim))
        self.pos_embed_x = nn.Parameter(torch.zeros(cfg.search_grid ** 2, cfg.dim))
        self.type_embed = nn.Parameter(torch.zeros(3, cfg.dim))
        self.blocks = nn.ModuleList([EncoderBlock(cfg) for _ in range(cfg.depth)])
        self.norm = nn.LayerNorm(cfg.dim, eps=cfg.ln_eps)

    def patchify(self, image: torch.Tensor) -> torch.Tensor:
        """[B, 3, S, S] -> [B, (S/P)^2, D] tokens in raster order."""
        return self.patch_embed(image).flatten(2).transpose(1, 2)

    def forward(self, template0: torch.Tensor, template1: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        z0 = self.patchify(template0) + self.pos_embed_z + self.type_embed[0]
        z1 = self.patchify(template1) + self.pos_embed_z + self.type_embed[1]
        x = self.patchify(search) + self.pos_embed_x + self.type_embed[2]
        tokens = torch.cat([z0, z1, x], dim=1)
        for block in self.blocks:
            tokens = block(tokens)
        tokens = self.norm(tokens)
        grid = self.cfg.search_grid
        return tokens[:, -grid * grid:].reshape(tokens.shape[0], grid, grid, self.cfg.dim)


# --------------------------------------------------------------------------------------------
# Decoder: Mamba diffusion blocks


class RMSNorm(nn.Module):
    """x * rsqrt(mean(x^2) + eps) * weight."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class BiMamba(nn.Module):
    """Vision Mamba v2 bidirectional Mamba: shared in/out projections, per-direction SSM.

    Forward-direction weights have no suffix, backward-direction ones end in `_b`.
    """

    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        d, inner, rank, state = cfg.dim, cfg.inner, cfg.dt_rank, cfg.d_state
        self.inner, self.rank, self.state = inner, rank, state
        # "auto": chunked on the GPU (fewer, larger kernels), sequential on the CPU (faster
        # there for these short sequences); "sequential" / "chunked" force one form.
        self.scan_mode = "auto"
        self.in_proj = nn.Linear(d, 2 * inner, bias=False)
        self.out_proj = nn.Linear(inner, d, bias=False)
        for suffix in ("", "_b"):
            setattr(self, "conv1d" + suffix,
                    nn.Conv1d(inner, inner, cfg.d_conv, groups=inner, padding=cfg.d_conv - 1))
            setattr(self, "x_proj" + suffix, nn.Linear(inner, rank + 2 * state, bias=False))
            setattr(self, "dt_proj" + suffix, nn.Linear(rank, inner))
        self.A_log = nn.Parameter(torch.zeros(inner, state))
        self.A_b_log = nn.Parameter(torch.zeros(inner, state))
        self.D = nn.Parameter(torch.ones(inner))
        self.D_b = nn.Parameter(torch.ones(inner))

    def direction(self, x: torch.Tensor, z: torch.Tensor, backward: bool) -> torch.Tensor:
        """One direction's SSM over x, z [B, L, E] (already reversed for the backward one)."""
        suffix = "_b" if backward else ""
        conv: nn.Conv1d = getattr(self, "conv1d" + suffix)
        x_proj: nn.Linear = getattr(self, "x_proj" + suffix)
        dt_proj: nn.Linear = getattr(self, "dt_proj" + suffix)
        A_log = self.A_b_log if backward else self.A_log
        D = self.D_b if backward else self.D
        length = x.shape[1]
        # Causal depthwise conv: pad K-1 on both sides, keep the first L outputs.
        xc = F.silu(conv(x.transpose(1, 2))[..., :length].transpose(1, 2))
        dt_low, B_in, C_in = torch.split(x_proj(xc), [self.rank, self.state, self.state], dim=-1)
        dt = F.softplus(dt_proj(dt_low))  # bias inside the softplus; threshold 20 as in torch
        mode = self.scan_mode
        if mode == "auto":
            mode = "chunked" if x.is_cuda else "sequential"
        # The scan runs in at least float32 (as Mamba's reference does), also under bf16 autocast.
        dtype = torch.promote_types(A_log.dtype, torch.float32)
        A = -torch.exp(A_log.to(dtype))
        cast = [t.to(dtype) for t in (xc, dt, B_in, C_in, D, z)]
        return selective_scan(cast[0], cast[1], A, cast[2], cast[3], cast[4], cast[5], mode=mode)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x, z = self.in_proj(hidden).chunk(2, dim=-1)
        y_forward = self.direction(x, z, backward=False)
        y_backward = self.direction(x.flip(1), z.flip(1), backward=True).flip(1)
        return self.out_proj((y_forward + y_backward) / 2)


class TimeEmbed(nn.Module):
    """Sinusoidal(t) [cos | sin] -> fc1 -> SiLU -> fc2."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.fc1 = nn.Linear(dim, dim)
        self.fc2 = nn.Linear(dim, dim)

    def forward(self, timesteps: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.silu(self.fc1(sinusoidal_embedding(timesteps, self.dim))))


def sinusoidal_embedding(timesteps: torch.Tensor, dim: int) -> torch.Tensor:
    """[cos(t f_k) | sin(t f_k)], f_k = exp(-ln(10000) k / (dim/2)); float64 math, float32 out."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
    args = timesteps.to(torch.float64)[..., None] * freqs.to(timesteps.device)
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1).float()


class DiffusionBlock(nn.Module):
    """Vision expert, language expert, fused bidirectional 3-D bimodal scan."""

    def __init__(self, cfg: DecoderConfig, encoder_dim: int):
        super().__init__()
        s = cfg.vis_stride
        self.vis_proj = nn.Conv3d(encoder_dim, cfg.dim, kernel_size=(1, s, s), stride=(1, s, s))
        self.vis_norm = RMSNorm(cfg.dim, cfg.rms_eps)
        self.vis_mamba = BiMamba(cfg)
        self.lang_norm = RMSNorm(cfg.dim, cfg.rms_eps)
        self.lang_mamba = BiMamba(cfg)
        self.fuse_norm = RMSNorm(cfg.dim, cfg.rms_eps)
        self.fuse_mamba = BiMamba(cfg)

    def forward(self, V: torch.Tensor, S: torch.Tensor, features_cdhw: torch.Tensor):
        """V [B, N, nv, d], S [B, N, 6, d], features [B, D, N, Hs, Ws] -> (V, S)."""
        batch, frames, nv, d = V.shape
        projected = self.vis_proj(features_cdhw)  # [B, d, N, Hv, Wv]
        V = V + projected.flatten(3).permute(0, 2, 3, 1)
        flat_v = V.reshape(batch, frames * nv, d)
        V = (flat_v + self.vis_mamba(self.vis_norm(flat_v))).reshape(batch, frames, nv, d)
        flat_s = S.reshape(batch, frames * 6, d)
        S = (flat_s + self.lang_mamba(self.lang_norm(flat_s))).reshape(batch, frames, 6, d)
        U = interleave(V, S)
        U = U + self.fuse_mamba(self.fuse_norm(U))
        return split_interleaved(U, frames, nv)


def interleave(V: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
    """[V_1, S_1, V_2, S_2, ...]: each frame's trajectory tokens right after its visual tokens."""
    batch, frames, _, d = V.shape
    return torch.cat([V, S], dim=2).reshape(batch, -1, d)


def split_interleaved(U: torch.Tensor, frames: int, nv: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Inverse of `interleave`."""
    per_frame = U.reshape(U.shape[0], frames, -1, U.shape[-1])
    return per_frame[:, :, :nv], per_frame[:, :, nv:]


class Decoder(nn.Module):
    """Diffusion decoder: noisy trajectory tokens + encoder features -> x0 logits."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        dc, tc = cfg.decoder, cfg.tokens
        self.cfg = cfg
        grid = cfg.encoder.search_grid // dc.vis_stride
        self.traj_embed = nn.Embedding(tc.vocab, dc.dim)
        self.head_bias = nn.Parameter(torch.zeros(tc.vocab))
        self.pos2d = nn.Parameter(torch.zeros(grid * grid, dc.dim))
        self.pos1d = nn.Parameter(torch.zeros(6, dc.dim))
        self.temporal = nn.Parameter(torch.zeros(dc.clip_len, dc.dim))
        self.time_embed = TimeEmbed(dc.dim)
        self.blocks = nn.ModuleList([DiffusionBlock(dc, cfg.encoder.dim) for _ in range(dc.blocks)])
        self.norm_f = RMSNorm(dc.dim, dc.rms_eps)
        # Recompute each block in the backward pass instead of storing its scan states
        # (the [B, L, E, d_state] tensors dominate training memory). Off by default.
        self.checkpoint_blocks = False
        abar = alphas_cumprod(cfg.diffusion.T, cfg.diffusion.s)
        # float64 square roots cast once to float32 (engines do the same); not weights.
        self.register_buffer("signal_scale", torch.from_numpy(np.sqrt(abar)).float(), persistent=False)
        self.register_buffer("noise_scale", torch.from_numpy(np.sqrt(1.0 - abar)).float(), persistent=False)

    def embed_trajectory(self, tokens: torch.Tensor, timesteps: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """S0 [B, N, 6, d] from prior coordinate tokens [B, N, 4], t [B, N], eps [B, N, 4, d]."""
        batch, frames, _ = tokens.shape
        tc = self.cfg.tokens
        begin = tokens.new_full((batch, frames, 1), tc.begin)
        end = tokens.new_full((batch, frames, 1), tc.end)
        embedded = self.traj_embed(torch.cat([begin, tokens, end], dim=2))  # [B, N, 6, d]
        a = self.signal_scale[timesteps][..., None, None]
        b = self.noise_scale[timesteps][..., None, None]
        coords = a * embedded[:, :, 1:5] + b * noise  # only coordinate slots are diffused
        x = torch.cat([embedded[:, :, :1], coords, embedded[:, :, 5:]], dim=2)
        x = x + self.pos1d
        x = x + self.temporal[:frames, None, :]
        return x + self.time_embed(timesteps)[:, :, None, :]

    def forward(self, features: torch.Tensor, tokens: torch.Tensor, timesteps: torch.Tensor,
                noise: torch.Tensor) -> torch.Tensor:
        """features [B, N, Hs, Ws, D], tokens [B, N, 4] int, t [B, N] int, noise [B, N, 4, d]
        -> logits [B, N, 6, vocab]."""
        tokens, timesteps = tokens.long(), timesteps.long()  # int32 indices fail on torch 1.13
        batch, frames = tokens.shape[:2]
        if frames > self.cfg.decoder.clip_len:
            raise ValueError(f"Expected at most {self.cfg.decoder.clip_len} frames but received {frames}")
        S = self.embed_trajectory(tokens, timesteps, noise)
        V = (self.pos2d[None] + self.temporal[:frames, None, :]).expand(batch, -1, -1, -1)
        features_cdhw = features.permute(0, 4, 1, 2, 3)
        for block in self.blocks:
            if self.checkpoint_blocks and torch.is_grad_enabled():
                V, S = torch.utils.checkpoint.checkpoint(block, V, S, features_cdhw, use_reentrant=False)
            else:
                V, S = block(V, S, features_cdhw)
        return F.linear(self.norm_f(S), self.traj_embed.weight, self.head_bias)


def decode_outputs(logits: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """logits [..., 6, V] -> tokens [..., 4] (argmax, ties to the lowest index),
    scores [..., 4] (top-1 softmax probability), frame scores [...] (mean of the 4)."""
    coords = logits[..., 1:5, :].float()
    tokens = torch.argmax(coords, dim=-1)
    scores = torch.softmax(coords, dim=-1).max(dim=-1).values
    return tokens, scores, scores.mean(dim=-1)


def _as_long(values) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        return values.long()
    return torch.as_tensor(np.asarray(values), dtype=torch.long)


class SCTDiff(nn.Module):
    """The whole network; see docs/model.md for every layer."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.encoder = Encoder(cfg.encoder)
        self.decoder = Decoder(cfg)

    def set_scan_mode(self, mode: str) -> None:
        """"sequential" (the definition), "chunked" (same result, parallel) or "auto" (default:
        chunked on CUDA tensors, sequential on the CPU)."""
        for module in self.modules():
            if isinstance(module, BiMamba):
                module.scan_mode = mode

    def encode(self, template0: torch.Tensor, template1: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        """Crops [B, 3, S, S] (unbatched [3, S, S] allowed) -> features [B, Hs, Ws, D]."""
        unbatched = search.dim() == 3
        if unbatched:
            template0, template1, search = template0[None], template1[None], search[None]
        features = self.encoder(template0, template1, search)
        return features[0] if unbatched else features

    @torch.no_grad()
    def decode(self, features: torch.Tensor, tokens, timesteps, seed: int):
        """Inference decode of one window with the engines' seeded noise.

        features [N, Hs, Ws, D], prior tokens [N, 4], timesteps [N], seed (uint64)
        -> dict(logits [N, 6, V], tokens [N, 4], scores [N, 4], frame_scores [N], noise [N, 4, d]).
        """
        device = features.device
        tokens = _as_long(tokens).to(device)
        timesteps = _as_long(timesteps).to(device)
        frames = tokens.shape[0]
        noise = torch.from_numpy(trajectory_noise(seed, frames, self.cfg.decoder.dim)).to(device)
        logits = self.decoder(features[None], tokens[None], timesteps[None], noise[None])[0]
        out_tokens, scores, frame_scores = decode_outputs(logits)
        return {"logits": logits, "tokens": out_tokens, "scores": scores,
                "frame_scores": frame_scores, "noise": noise}


# --------------------------------------------------------------------------------------------
# Initialization for training (docs/model.md, "Initialization")


def _trunc_normal(tensor: torch.Tensor, std: float) -> None:
    nn.init.trunc_normal_(tensor, mean=0.0, std=std, a=-2 * std, b=2 * std)


def _init_mamba(mamba: BiMamba, out_scale: float, cfg: DecoderConfig) -> None:
    _trunc_normal(mamba.in_proj.weight, 0.02)
    _trunc_normal(mamba.out_proj.weight, 0.02 * out_scale)
    dt_min, dt_max, dt_floor = 1e-3, 1e-1, 1e-4
    for suffix in ("", "_b"):
        conv: nn.Conv1d = getattr(mamba, "conv1d" + suffix)
        bound = 1.0 / math.sqrt(cfg.d_conv)  # PyTorch's default for a depthwise conv (fan_in = K)
        nn.init.uniform_(conv.weight, -bound, bound)
        nn.init.uniform_(conv.bias, -bound, bound)
        _trunc_normal(getattr(mamba, "x_proj" + suffix).weight, 0.02)
        dt_proj: nn.Linear = getattr(mamba, "dt_proj" + suffix)
        limit = cfg.dt_rank ** -0.5
        nn.init.uniform_(dt_proj.weight, -limit, limit)
        # Mamba's dt init: dt ~ logU(1e-3, 1e-1) floored at 1e-4, bias = softplus^-1(dt).
        # Both directions get it (Vim leaves the backward bias at 0 = dt 0.69 by accident).
        dt = torch.exp(torch.rand(cfg.inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=dt_floor)
        with torch.no_grad():
            dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))
    # S4D-real: A[e, n] = -(n + 1).
    a_log = torch.log(torch.arange(1, cfg.d_state + 1, dtype=torch.float32)).repeat(cfg.inner, 1)
    with torch.no_grad():
        mamba.A_log.copy_(a_log)
        mamba.A_b_log.copy_(a_log)
        mamba.D.fill_(1.0)
        mamba.D_b.fill_(1.0)


# Frequencies of the Fourier coordinate codes, in cycles per crop side: the lowest spans the
# whole token range (period 2 crops), the highest resolves ~6 bins (period 1/64 crop).
FOURIER_MIN_FREQUENCY = 0.5
FOURIER_MAX_FREQUENCY = 64.0


def coordinate_fourier_codes(cfg: ModelConfig) -> torch.Tensor:
    """[2*bins, d] embedding rows of the coordinate tokens: sqrt(2) [cos(2 pi f_j u) | sin(2 pi f_j u)].

    u is the token's bin centre in crop units and f_j runs geometrically over d/2 frequencies
    from FOURIER_MIN_FREQUENCY to FOURIER_MAX_FREQUENCY. Neighbouring bins get similar rows, so
    the tied head's logits h . e(k) are a smooth function of the coordinate (a Fourier series
    in u): a gradient step that raises one bin raises its neighbours, and the decoder only has
    to output the code of a position instead of one of 800 unrelated vectors. Every entry has
    RMS 1 like the N(0, 1) rows (the noise it is diffused with is unit Gaussian).
    """
    tc, dim = cfg.tokens, cfg.decoder.dim
    k = torch.arange(2 * tc.bins, dtype=torch.float64)
    u = (k + 0.5) / (tc.bins - 1) + tc.range_min
    half = dim // 2
    exponents = torch.arange(half, dtype=torch.float64) / max(1, half - 1)
    freqs = FOURIER_MIN_FREQUENCY * (FOURIER_MAX_FREQUENCY / FOURIER_MIN_FREQUENCY) ** exponents
    angles = 2 * math.pi * u[:, None] * freqs[None]
    return (torch.cat([torch.cos(angles), torch.sin(angles)], dim=1) * math.sqrt(2.0)).float()


COORDINATE_INITS = ("normal", "fourier")
ENCODER_INITS = ("trunc_normal", "mimetic")


@torch.no_grad()
def mimetic_attention_init(attn: "Attention", generator: torch.Generator,
                           qk_scale: Tuple[float, float] = (0.7, 0.7),
                           vo_scale: Tuple[float, float] = (0.4, 0.4)) -> None:
    """Mimetic initialization of one attention layer (Trockman & Kolter, ICML 2023).

    Why: trained from scratch on little data, a ViT's attention starts as noise and needs many
    samples to learn that a token should attend to tokens that look like it. Pretrained ViTs
    show W_q^T W_k ~ a + I (tokens attend to similar tokens) and W_proj W_v ~ a - I; starting
    there is a data-free stand-in for pretraining that the paper found to speed up small-data
    ViT training markedly. For a one-stream tracker the first half is exactly template matching:
    a search token that looks like template tokens attends to them.

    Per head h (head dim k of model dim d): W_q,h^T W_k,h is the best rank-k approximation of
    a1 Z1 + b1 I and W_proj,h W_v,h of a2 Z2 - b2 I, with Z ~ N(0, 1/d), factored by SVD.
    Draws only from `generator`, so the rest of an init stays draw for draw the same."""
    d = attn.qkv.in_features
    heads = attn.heads
    k = d // heads
    eye = torch.eye(d)
    wq, wk, wv = attn.qkv.weight.view(3, heads, k, d)  # torch Linear rows: q = W_q x
    wproj = attn.proj.weight.view(d, heads, k)
    (a1, b1), (a2, b2) = qk_scale, vo_scale
    for h in range(heads):
        u, s, vt = torch.linalg.svd(a1 * torch.randn(d, d, generator=generator) / math.sqrt(d) + b1 * eye)
        root = s[:k].sqrt()
        wq[h].copy_(root[:, None] * u[:, :k].T)  # W_q^T W_k = U_k S_k V_k^T
        wk[h].copy_(root[:, None] * vt[:k])
        u, s, vt = torch.linalg.svd(a2 * torch.randn(d, d, generator=generator) / math.sqrt(d) - b2 * eye)
        root = s[:k].sqrt()
        wproj[:, h].copy_(u[:, :k] * root[None, :])  # W_proj,h W_v,h = U_k S_k V_k^T
        wv[h].copy_(root[:, None] * vt[:k])


@torch.no_grad()
def init_weights(model: SCTDiff, seed: int = 0, coordinate_init: str = "normal",
                 encoder_init: str = "trunc_normal") -> SCTDiff:
    """Training initialization, deterministic for a seed (global torch RNG is left untouched).

    Encoder: trunc-normal(0.02) weights and position/type tables, zero biases, LayerNorm 1/0.
    Decoder: trajectory embedding N(0, 1) (Diffusion-LM / DiffuSeq: the token signal must be
    comparable to the unit Gaussian noise it is diffused with), norm_f weight 1/sqrt(d) so the
    tied head starts with unit-scale logits, Mamba as in state-spaces/mamba (S4D-real A_log,
    dt bias, D = 1) with out_proj scaled by 1/sqrt(number of Mamba layers) (GPT-2 scheme).
    `coordinate_init="fourier"` replaces the coordinate tokens' N(0, 1) rows with
    `coordinate_fourier_codes` (what training uses; "normal" keeps the goldens' weights).
    `encoder_init="mimetic"` then re-initializes every encoder attention layer with
    `mimetic_attention_init` (a stand-in for the pretrained ViT OSTrack starts from).
    """
    if coordinate_init not in COORDINATE_INITS:
        raise ValueError(f"Expected coordinate_init in {list(COORDINATE_INITS)} but received {coordinate_init!r}")
    if encoder_init not in ENCODER_INITS:
        raise ValueError(f"Expected encoder_init in {list(ENCODER_INITS)} but received {encoder_init!r}")
    cfg = model.cfg
    dc = cfg.decoder
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        enc = model.encoder
        for module in enc.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                _trunc_normal(module.weight, 0.02)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        for table in (enc.pos_embed_z, enc.pos_embed_x, enc.type_embed):
            _trunc_normal(table, 0.02)
        if encoder_init == "mimetic":
            mimetic_generator = torch.Generator().manual_seed(seed + 0x6D696D)  # "mim"
            for block in enc.blocks:
                mimetic_attention_init(block.attn, mimetic_generator)
        dec = model.decoder
        nn.init.normal_(dec.traj_embed.weight, 0.0, 1.0)
        if coordinate_init == "fourier":
            dec.traj_embed.weight[: 2 * cfg.tokens.bins] = coordinate_fourier_codes(cfg)
        nn.init.zeros_(dec.head_bias)
        for table in (dec.pos2d, dec.pos1d, dec.temporal):
            _trunc_normal(table, 0.02)
        for fc in (dec.time_embed.fc1, dec.time_embed.fc2):
            _trunc_normal(fc.weight, 0.02)
            nn.init.zeros_(fc.bias)
        dec.norm_f.weight.fill_(dc.dim ** -0.5)
        out_scale = 1.0 / math.sqrt(3 * dc.blocks)
        for block in dec.blocks:
            _trunc_normal(block.vis_proj.weight, 0.02)
            nn.init.zeros_(block.vis_proj.bias)
            for norm in (block.vis_norm, block.lang_norm, block.fuse_norm):
                nn.init.ones_(norm.weight)
            for mamba in (block.vis_mamba, block.lang_mamba, block.fuse_mamba):
                _init_mamba(mamba, out_scale, dc)
    return model


def build_model(cfg: ModelConfig, seed: Optional[int] = None, coordinate_init: str = "normal",
                encoder_init: str = "trunc_normal") -> SCTDiff:
    """Construct and (when seed is given) initialize with `init_weights`."""
    model = SCTDiff(cfg)
    if seed is not None:
        init_weights(model, seed, coordinate_init, encoder_init)
    return model
