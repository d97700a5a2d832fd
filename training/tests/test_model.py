"""Behaviour of the reference network's pieces (micro config: fast on CPU)."""
import math

import numpy as np
import pytest
import torch

from sctdiff.config import micro_config
from sctdiff.model import (SCTDiff, build_model, coordinate_fourier_codes, decode_outputs, interleave, sinusoidal_embedding,
                           split_interleaved)
from sctdiff.noise import trajectory_noise
from sctdiff.schedule import alphas_cumprod


@pytest.fixture(scope="module")
def model():
    return build_model(micro_config(), seed=0).eval()


def random_features(frames, seed=0):
    return torch.randn(frames, 8, 8, 64, generator=torch.Generator().manual_seed(seed))


def test_decode_outputs_argmax_ties_go_to_lowest_index_and_scores_are_top1_probabilities():
    logits = torch.zeros(1, 6, 10)
    logits[0, 1, [3, 7]] = 2.0  # tie between 3 and 7
    logits[0, 2, 9] = 1.0
    logits[0, 3, 0] = 5.0
    logits[0, 4, [2, 4, 6]] = 3.0
    logits[0, 0, 5] = 100.0  # Begin/End slots are not outputs
    tokens, scores, frame_scores = decode_outputs(logits)
    assert tokens.tolist() == [[3, 9, 0, 2]]
    expected = [math.exp(2) / (2 * math.exp(2) + 8), math.e / (math.e + 9), math.exp(5) / (math.exp(5) + 9),
                math.exp(3) / (3 * math.exp(3) + 7)]
    np.testing.assert_allclose(scores[0].numpy(), expected, rtol=1e-6)
    assert frame_scores[0].item() == pytest.approx(sum(expected) / 4, rel=1e-6)


def test_interleave_puts_each_frames_tokens_after_its_features():
    frames, nv, d = 3, 4, 2
    V = torch.arange(frames * nv).float().reshape(1, frames, nv, 1).expand(1, frames, nv, d)
    S = (1000 + torch.arange(frames * 6)).float().reshape(1, frames, 6, 1).expand(1, frames, 6, d)
    U = interleave(V, S)[0, :, 0].tolist()
    expected = []
    for f in range(frames):
        expected += list(range(f * nv, (f + 1) * nv)) + list(range(1000 + 6 * f, 1000 + 6 * f + 6))
    assert U == expected
    V2, S2 = split_interleaved(interleave(V, S), frames, nv)
    assert torch.equal(V2, V) and torch.equal(S2, S)


def test_sinusoidal_embedding_is_cos_then_sin():
    emb = sinusoidal_embedding(torch.tensor([0, 7]), 8)
    assert emb[0].tolist() == [1.0] * 4 + [0.0] * 4
    freqs = [math.exp(-math.log(10000) * k / 4) for k in range(4)]
    expected = [math.cos(7 * f) for f in freqs] + [math.sin(7 * f) for f in freqs]
    np.testing.assert_allclose(emb[1].numpy(), expected, rtol=1e-6)


def test_only_coordinate_slots_are_noised(model):
    dec = model.decoder
    tokens = torch.tensor([[[10, 20, 30, 40], [50, 60, 70, 80]]])
    t = torch.tensor([[999, 500]])
    noise_a = torch.randn(1, 2, 4, 32)
    S_a = dec.embed_trajectory(tokens, t, noise_a)
    S_b = dec.embed_trajectory(tokens, t, noise_a + 1.0)
    assert torch.equal(S_a[:, :, [0, 5]], S_b[:, :, [0, 5]])
    assert not torch.allclose(S_a[:, :, 1:5], S_b[:, :, 1:5])
    # Exact composition: ((a e + b eps) + pos1d) + temporal + time_embed
    abar = alphas_cumprod()
    a, b = np.float32(np.sqrt(abar[500])), np.float32(np.sqrt(1 - abar[500]))
    e = dec.traj_embed.weight[60]
    expected = ((a * e + b * noise_a[0, 1, 1]) + dec.pos1d[2]) + dec.temporal[1] + dec.time_embed(torch.tensor(500))
    torch.testing.assert_close(S_a[0, 1, 2], expected)
    begin = dec.traj_embed.weight[800] + dec.pos1d[0] + dec.temporal[0] + dec.time_embed(torch.tensor(999))
    torch.testing.assert_close(S_a[0, 0, 0], begin)


def test_decode_uses_the_seeded_engine_noise(model):
    feats = random_features(3)
    tokens = np.array([[100, 200, 300, 400]] * 3)
    out = model.decode(feats, tokens, [500, 999, 999], seed=1234)
    assert np.array_equal(out["noise"].numpy(), trajectory_noise(1234, 3, 32))
    with torch.no_grad():
        logits = model.decoder(feats[None], torch.as_tensor(tokens)[None], torch.tensor([[500, 999, 999]]),
                               out["noise"][None])[0]
    assert torch.equal(logits, out["logits"])
    other = model.decode(feats, tokens, [500, 999, 999], seed=1235)
    assert not torch.equal(other["logits"], out["logits"])


def test_sequential_and_chunked_models_agree(model):
    feats = random_features(6, seed=1)
    tokens = np.random.default_rng(0).integers(0, 799, size=(6, 4))
    model.set_scan_mode("sequential")
    reference = model.decode(feats, tokens, [500] * 3 + [999] * 3, 5)["logits"]
    model.set_scan_mode("chunked")
    fast = model.decode(feats, tokens, [500] * 3 + [999] * 3, 5)["logits"]
    assert ((fast - reference).norm() / reference.norm()).item() < 1e-6


def test_batched_decoder_equals_per_sample(model):
    feats = torch.stack([random_features(4, seed=s) for s in range(2)])
    tokens = torch.randint(0, 799, (2, 4, 4), generator=torch.Generator().manual_seed(0))
    t = torch.tensor([[0, 250, 500, 999], [999, 999, 1, 2]])
    noise = torch.randn(2, 4, 4, 32)
    with torch.no_grad():
        batched = model.decoder(feats, tokens, t, noise)
        for i in range(2):
            single = model.decoder(feats[i:i + 1], tokens[i:i + 1], t[i:i + 1], noise[i:i + 1])
            torch.testing.assert_close(batched[i:i + 1], single, rtol=1e-5, atol=1e-5)


def test_frames_are_not_interchangeable(model):
    # Temporal embeddings and the interleaved scan make the order of frames matter.
    feats = random_features(3, seed=2)
    tokens = np.array([[100, 200, 300, 400], [110, 210, 310, 410], [120, 220, 320, 420]])
    out = model.decode(feats, tokens, [500] * 3, 9)["logits"]
    permuted = model.decode(feats[[2, 1, 0]], tokens[[2, 1, 0]], [500] * 3, 9)["logits"][[2, 1, 0]]
    assert not torch.allclose(out, permuted, atol=1e-4)


def test_attention_head_layout_matches_contract(model):
    attn = model.encoder.blocks[0].attn
    x = torch.randn(1, 5, 64)
    D, H = 64, 2
    Dh = D // H
    W, b = attn.qkv.weight, attn.qkv.bias
    heads = []
    for h in range(H):
        sl = slice(h * Dh, (h + 1) * Dh)
        q = x[0] @ W[0 * D:1 * D][sl].T + b[0 * D:1 * D][sl]
        k = x[0] @ W[1 * D:2 * D][sl].T + b[1 * D:2 * D][sl]
        v = x[0] @ W[2 * D:3 * D][sl].T + b[2 * D:3 * D][sl]
        heads.append(torch.softmax(q @ k.T / math.sqrt(Dh), dim=-1) @ v)
    expected = attn.proj(torch.cat(heads, dim=-1))
    torch.testing.assert_close(attn(x)[0], expected, rtol=1e-5, atol=1e-6)


def test_encoder_keeps_search_tokens_and_templates_matter(model):
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(3, 64, 64, generator=g), torch.randn(3, 64, 64, generator=g)
    x = torch.randn(3, 128, 128, generator=g)
    with torch.no_grad():
        base = model.encode(z0, z1, x)
        assert base.shape == (8, 8, 64)
        assert not torch.allclose(base, model.encode(z0, z1 + 0.5, x))
        # Final LayerNorm with weight 1, bias 0 at init: every feature vector is normalized.
        np.testing.assert_allclose(base.mean(-1).numpy(), 0.0, atol=1e-5)


def test_init_is_deterministic_and_follows_mamba_recipe():
    a = build_model(micro_config(), seed=3).state_dict()
    b = build_model(micro_config(), seed=3).state_dict()
    c = build_model(micro_config(), seed=4).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["decoder.traj_embed.weight"], c["decoder.traj_embed.weight"])
    p = "decoder.blocks.1.lang_mamba."
    assert torch.equal(a[p + "A_log"][5], torch.log(torch.arange(1, 17, dtype=torch.float32)))
    assert torch.equal(a[p + "A_b_log"], a[p + "A_log"])
    assert torch.equal(a[p + "D"], torch.ones(64)) and torch.equal(a[p + "D_b"], torch.ones(64))
    for sfx in ("", "_b"):
        dt = torch.nn.functional.softplus(a[p + f"dt_proj{sfx}.bias"])
        assert dt.min() >= 1e-4 * 0.999 and dt.max() <= 0.1 * 1.001
    assert a["decoder.traj_embed.weight"].std().item() == pytest.approx(1.0, abs=0.05)
    assert a["encoder.blocks.0.attn.qkv.weight"].abs().max().item() <= 0.04 + 1e-6


def test_every_parameter_receives_gradient():
    torch.manual_seed(0)
    model = build_model(micro_config(), seed=0)
    model.train()
    z = torch.randn(2, 3, 64, 64)
    x = torch.randn(2, 3, 128, 128)
    feats = model.encode(z, z, x)  # [2, 8, 8, 64] -> one clip of 2 frames
    logits = model.decoder(feats[None], torch.randint(0, 799, (1, 2, 4)), torch.tensor([[10, 900]]),
                           torch.randn(1, 2, 4, 32))
    logits.logsumexp(-1).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert missing == []


def test_too_many_frames_is_rejected(model):
    with pytest.raises(ValueError, match="Expected at most 6 frames"):
        model.decode(random_features(7), np.zeros((7, 4), dtype=np.int64), [999] * 7, 0)


def test_block_checkpointing_gives_the_same_gradients():
    grads = []
    for checkpointing in (False, True):
        model = build_model(micro_config(), seed=1)
        model.decoder.checkpoint_blocks = checkpointing
        feats = random_features(2, seed=4)[None].requires_grad_(True)
        logits = model.decoder(feats, torch.tensor([[[1, 2, 3, 4], [5, 6, 7, 8]]]), torch.tensor([[3, 700]]),
                               torch.ones(1, 2, 4, 32))
        logits.square().mean().backward()
        grads.append([feats.grad] + [p.grad for p in model.decoder.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)


def test_bf16_autocast_and_int32_indices_train_step_runs(model):
    # The training loop runs under bf16 autocast on the GPU; the CPU autocast exercises the same
    # dtype mixing (bf16 linears, float32 scan and residual stream).
    feats = random_features(2, seed=5)[None]
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        logits = model.decoder(feats, torch.randint(0, 799, (1, 2, 4), dtype=torch.int32),
                               torch.tensor([[5, 900]], dtype=torch.int32), torch.randn(1, 2, 4, 32))
    assert logits.shape == (1, 2, 6, 802) and torch.isfinite(logits.float()).all()
    with torch.no_grad():
        full = model.decoder(feats, torch.randint(0, 799, (1, 2, 4)), torch.tensor([[5, 900]]), torch.randn(1, 2, 4, 32))
    assert full.dtype == torch.float32


def test_fourier_coordinate_init_gives_smooth_unit_scale_codes():
    cfg = micro_config()
    normal = build_model(cfg, seed=3).state_dict()["decoder.traj_embed.weight"]
    fourier = build_model(cfg, seed=3, coordinate_init="fourier").state_dict()["decoder.traj_embed.weight"]
    bins = cfg.tokens.bins
    codes = fourier[: 2 * bins]
    assert torch.equal(codes, coordinate_fourier_codes(cfg))
    # Begin/End rows keep their N(0, 1) draw; every coordinate entry has RMS 1 like them.
    assert torch.equal(fourier[2 * bins:], normal[2 * bins:])
    assert codes.pow(2).mean().item() == pytest.approx(1.0, abs=1e-4)
    # Similarity falls off with the distance between bins: the tied head's logits are smooth in u.
    sim = (codes @ codes[200]) / cfg.decoder.dim
    assert sim[200].item() == pytest.approx(1.0, abs=1e-5)
    assert sim[201] > sim[205] > sim[240] and sim[201].item() > 0.9
    assert sim[600].abs() < sim[205] - 0.1  # far bins: far less alike than close ones
    with pytest.raises(ValueError, match="coordinate_init"):
        build_model(cfg, seed=3, coordinate_init="sinusoid")


def _attention_products(model):
    """Per encoder layer: (sum over heads of W_q^T W_k, sum over heads of W_proj,h W_v,h), both [d, d]."""
    out = []
    for block in model.encoder.blocks:
        attn = block.attn
        d = attn.qkv.in_features
        k = d // attn.heads
        wq, wk, wv = attn.qkv.weight.view(3, attn.heads, k, d)
        wproj = attn.proj.weight.view(d, attn.heads, k)
        out.append((sum(wq[h].T @ wk[h] for h in range(attn.heads)),
                    sum(wproj[:, h] @ wv[h] for h in range(attn.heads))))
    return out


def test_mimetic_encoder_init_makes_tokens_attend_to_similar_tokens():
    cfg = micro_config()
    plain = build_model(cfg, seed=3, coordinate_init="fourier")
    mimetic = build_model(cfg, seed=3, coordinate_init="fourier", encoder_init="mimetic")
    d = cfg.encoder.dim
    for (qk, vo), (qk0, _) in zip(_attention_products(mimetic), _attention_products(plain)):
        # W_q^T W_k ~ a Z + b I: a clearly positive diagonal over off-diagonal noise ...
        off = qk - torch.diag(qk.diag())
        assert qk.diag().mean() > 0.3 and qk.diag().mean() > 3 * off.std()
        # ... and W_proj W_v ~ a Z - b I: a negative one. The plain init has neither.
        assert vo.diag().mean() < -0.2
        assert abs(qk0.diag().mean()) < 0.05
    # A token's query then scores an identical key above unrelated ones.
    attn = mimetic.encoder.blocks[0].attn
    x = torch.randn(16, d)
    q, k, _ = attn.qkv(x).split(d, dim=-1)
    scores = q @ k.T
    assert (scores.diag() > scores.masked_fill(torch.eye(16, dtype=torch.bool), -1e9).max(-1).values).float().mean() > 0.8
    # Everything outside the attention projections is the plain init, draw for draw.
    plain_state, mimetic_state = plain.state_dict(), mimetic.state_dict()
    changed = [name for name in plain_state if not torch.equal(plain_state[name], mimetic_state[name])]
    assert changed and all(".attn.qkv.weight" in n or ".attn.proj.weight" in n for n in changed)
    with pytest.raises(ValueError, match="encoder_init"):
        build_model(cfg, seed=3, encoder_init="xavier")
