"""docs/model.md re-implemented in plain numpy float64, independent of model.py.

If this test fails, the PyTorch reference and the document the C++ engines are written
from disagree — fix one of them.
"""
import math

import numpy as np
import pytest
import torch

from sctdiff.config import micro_config
from sctdiff.model import build_model
from sctdiff.noise import trajectory_noise
from sctdiff.schedule import alphas_cumprod


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def silu(x):
    return x / (1 + np.exp(-x))


def softplus(x):
    return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))


def rms_norm(x, w, eps):
    return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps) * w


def patchify(img, w, b, P):
    C, H, W = img.shape
    g = H // P
    patches = img.reshape(C, g, P, g, P).transpose(1, 3, 0, 2, 4).reshape(g * g, C * P * P)
    return patches @ w.reshape(w.shape[0], -1).T + b


def encoder(W, cfg, z0, z1, x):
    e = cfg.encoder
    t = np.concatenate([
        patchify(z0, W["encoder.patch_embed.weight"], W["encoder.patch_embed.bias"], e.patch)
        + W["encoder.pos_embed_z"] + W["encoder.type_embed"][0],
        patchify(z1, W["encoder.patch_embed.weight"], W["encoder.patch_embed.bias"], e.patch)
        + W["encoder.pos_embed_z"] + W["encoder.type_embed"][1],
        patchify(x, W["encoder.patch_embed.weight"], W["encoder.patch_embed.bias"], e.patch)
        + W["encoder.pos_embed_x"] + W["encoder.type_embed"][2]])
    D, H = e.dim, e.heads
    Dh = D // H
    for i in range(e.depth):
        p = f"encoder.blocks.{i}."
        h = layer_norm(t, W[p + "norm1.weight"], W[p + "norm1.bias"], e.ln_eps)
        qkv = h @ W[p + "attn.qkv.weight"].T + W[p + "attn.qkv.bias"]
        heads = []
        for k in range(H):
            q, kk, v = (qkv[:, j * D + k * Dh: j * D + (k + 1) * Dh] for j in range(3))
            s = q @ kk.T / math.sqrt(Dh)
            a = np.exp(s - s.max(-1, keepdims=True))
            heads.append((a / a.sum(-1, keepdims=True)) @ v)
        t = t + np.concatenate(heads, -1) @ W[p + "attn.proj.weight"].T + W[p + "attn.proj.bias"]
        h = layer_norm(t, W[p + "norm2.weight"], W[p + "norm2.bias"], e.ln_eps)
        t = t + gelu(h @ W[p + "mlp.fc1.weight"].T + W[p + "mlp.fc1.bias"]) @ W[p + "mlp.fc2.weight"].T \
            + W[p + "mlp.fc2.bias"]
    t = layer_norm(t, W["encoder.norm.weight"], W["encoder.norm.bias"], e.ln_eps)
    g = e.search_size // e.patch
    return t[-g * g:].reshape(g, g, D)


def direction(W, p, sfx, x, z, cfg):
    d = cfg.decoder
    L, E = x.shape
    cw, cb = W[p + f"conv1d{sfx}.weight"][:, 0, :], W[p + f"conv1d{sfx}.bias"]
    K = d.d_conv
    xpad = np.concatenate([np.zeros((K - 1, E)), x])
    xc = silu(np.stack([(xpad[l:l + K] * cw.T).sum(0) for l in range(L)]) + cb)
    proj = xc @ W[p + f"x_proj{sfx}.weight"].T
    R, Ns = d.dt_rank, d.d_state
    dtr, B, C = proj[:, :R], proj[:, R:R + Ns], proj[:, R + Ns:]
    dt = softplus(dtr @ W[p + f"dt_proj{sfx}.weight"].T + W[p + f"dt_proj{sfx}.bias"])
    A = -np.exp(W[p + ("A_b_log" if sfx else "A_log")])
    Dv = W[p + ("D_b" if sfx else "D")]
    h = np.zeros((E, Ns))
    ys = []
    for l in range(L):
        h = np.exp(dt[l][:, None] * A) * h + (dt[l] * xc[l])[:, None] * B[l][None, :]
        ys.append((h @ C[l] + Dv * xc[l]) * silu(z[l]))
    return np.stack(ys)


def bimamba(W, p, X, cfg):
    E = cfg.decoder.inner
    xz = X @ W[p + "in_proj.weight"].T
    x, z = xz[:, :E], xz[:, E:]
    y = direction(W, p, "", x, z, cfg) + direction(W, p, "_b", x[::-1], z[::-1], cfg)[::-1]
    return (y / 2) @ W[p + "out_proj.weight"].T


def decoder(W, cfg, F, tokens, timesteps, eps):
    d, tc = cfg.decoder, cfg.tokens
    N, w = len(tokens), d.dim
    abar = alphas_cumprod(cfg.diffusion.T, cfg.diffusion.s)
    half = w // 2
    freqs = np.exp(-math.log(10000) * np.arange(half) / half)
    S = np.zeros((N, 6, w))
    for f in range(N):
        args = timesteps[f] * freqs
        temb = np.concatenate([np.cos(args), np.sin(args)])
        temb = silu(temb @ W["decoder.time_embed.fc1.weight"].T + W["decoder.time_embed.fc1.bias"])
        temb = temb @ W["decoder.time_embed.fc2.weight"].T + W["decoder.time_embed.fc2.bias"]
        row = [tc.begin] + list(tokens[f]) + [tc.end]
        for j, tok in enumerate(row):
            e = W["decoder.traj_embed.weight"][tok]
            if 1 <= j <= 4:
                e = math.sqrt(abar[timesteps[f]]) * e + math.sqrt(1 - abar[timesteps[f]]) * eps[f, j - 1]
            S[f, j] = e + W["decoder.pos1d"][j] + W["decoder.temporal"][f] + temb
    nv = W["decoder.pos2d"].shape[0]
    V = W["decoder.pos2d"][None] + W["decoder.temporal"][:N, None]
    s = d.vis_stride
    for b in range(d.blocks):
        p = f"decoder.blocks.{b}."
        cw, cbias = W[p + "vis_proj.weight"][:, :, 0], W[p + "vis_proj.bias"]  # [d, D, s, s]
        Hs = F.shape[1]
        g = Hs // s
        proj = np.zeros((N, g, g, w))
        for py in range(g):
            for px in range(g):
                patch = F[:, py * s:(py + 1) * s, px * s:(px + 1) * s, :]  # [N, s, s, D]
                proj[:, py, px] = np.einsum("nyxc,ocyx->no", patch, cw) + cbias
        V = V + proj.reshape(N, nv, w)
        flat = V.reshape(N * nv, w)
        V = (flat + bimamba(W, p + "vis_mamba.", rms_norm(flat, W[p + "vis_norm.weight"], d.rms_eps), cfg)).reshape(N, nv, w)
        flat = S.reshape(N * 6, w)
        S = (flat + bimamba(W, p + "lang_mamba.", rms_norm(flat, W[p + "lang_norm.weight"], d.rms_eps), cfg)).reshape(N, 6, w)
        U = np.concatenate([np.concatenate([V[f], S[f]]) for f in range(N)])
        U = U + bimamba(W, p + "fuse_mamba.", rms_norm(U, W[p + "fuse_norm.weight"], d.rms_eps), cfg)
        U = U.reshape(N, nv + 6, w)
        V, S = U[:, :nv], U[:, nv:]
    return rms_norm(S, W["decoder.norm_f.weight"], d.rms_eps) @ W["decoder.traj_embed.weight"].T + W["decoder.head_bias"]


@pytest.fixture(scope="module")
def setup():
    cfg = micro_config()
    model = build_model(cfg, seed=11).eval()
    with torch.no_grad():  # make the normally-zero tensors non-trivial so they are exercised
        for name, p in model.named_parameters():
            if name.endswith("bias") or "type_embed" in name or "head_bias" in name:
                p.add_(torch.randn_like(p) * 0.05)
    W = {k: v.double().numpy() for k, v in model.state_dict().items()}
    return cfg, model, W


def rel(a, b):
    return np.linalg.norm((a - b).ravel()) / np.linalg.norm(b.ravel())


def test_encoder_matches_document(setup):
    cfg, model, W = setup
    rng = np.random.default_rng(0)
    z0, z1 = rng.normal(size=(3, 64, 64)), rng.normal(size=(3, 64, 64))
    x = rng.normal(size=(3, 128, 128))
    expected = encoder(W, cfg, z0, z1, x)
    with torch.no_grad():
        got = model.encode(*(torch.from_numpy(a).float() for a in (z0, z1, x))).double().numpy()
    assert rel(got, expected) < 1e-5


def test_decoder_matches_document(setup):
    cfg, model, W = setup
    rng = np.random.default_rng(1)
    N = 3
    feats = rng.normal(size=(N, 8, 8, 64))
    tokens = rng.integers(0, 799, size=(N, 4))
    timesteps = [500, 999, 17]
    out = model.decode(torch.from_numpy(feats).float(), tokens, timesteps, seed=77)
    expected = decoder(W, cfg, feats, tokens, timesteps, trajectory_noise(77, N, 32).astype(np.float64))
    assert rel(out["logits"].double().numpy(), expected) < 1e-5
