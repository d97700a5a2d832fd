"""Weight names and shapes against the contract, parameter counts, stage shapes."""
import math

import pytest
import torch

from sctdiff.config import ModelConfig, b256_config, get_config, micro_config, tiny_config
from sctdiff.model import SCTDiff


def contract_weights(cfg: ModelConfig):
    """The weight list of docs/model-contract.md, written out independently of model.py."""
    e, d, t = cfg.encoder, cfg.decoder, cfg.tokens
    D, P, M = e.dim, e.patch, e.mlp
    Nz, Nx = (e.template_size // P) ** 2, (e.search_size // P) ** 2
    E, R, Ns, K, s = d.expand * d.dim, d.dt_rank, d.d_state, d.d_conv, d.vis_stride
    nv = (e.search_size // P // s) ** 2
    w = {"encoder.patch_embed.weight": (D, 3, P, P), "encoder.patch_embed.bias": (D,),
         "encoder.pos_embed_z": (Nz, D), "encoder.pos_embed_x": (Nx, D), "encoder.type_embed": (3, D),
         "encoder.norm.weight": (D,), "encoder.norm.bias": (D,)}
    for i in range(e.depth):
        p = f"encoder.blocks.{i}."
        w.update({p + "norm1.weight": (D,), p + "norm1.bias": (D,), p + "attn.qkv.weight": (3 * D, D),
                  p + "attn.qkv.bias": (3 * D,), p + "attn.proj.weight": (D, D), p + "attn.proj.bias": (D,),
                  p + "norm2.weight": (D,), p + "norm2.bias": (D,), p + "mlp.fc1.weight": (M, D),
                  p + "mlp.fc1.bias": (M,), p + "mlp.fc2.weight": (D, M), p + "mlp.fc2.bias": (D,)})
    w.update({"decoder.traj_embed.weight": (t.vocab, d.dim), "decoder.head_bias": (t.vocab,),
              "decoder.pos2d": (nv, d.dim), "decoder.pos1d": (6, d.dim), "decoder.temporal": (d.clip_len, d.dim),
              "decoder.time_embed.fc1.weight": (d.dim, d.dim), "decoder.time_embed.fc1.bias": (d.dim,),
              "decoder.time_embed.fc2.weight": (d.dim, d.dim), "decoder.time_embed.fc2.bias": (d.dim,),
              "decoder.norm_f.weight": (d.dim,)})
    for b in range(d.blocks):
        p = f"decoder.blocks.{b}."
        w.update({p + "vis_proj.weight": (d.dim, D, 1, s, s), p + "vis_proj.bias": (d.dim,),
                  p + "vis_norm.weight": (d.dim,), p + "lang_norm.weight": (d.dim,), p + "fuse_norm.weight": (d.dim,)})
        for m in ("vis_mamba", "lang_mamba", "fuse_mamba"):
            q = p + m + "."
            w.update({q + "in_proj.weight": (2 * E, d.dim), q + "out_proj.weight": (d.dim, E),
                      q + "A_log": (E, Ns), q + "A_b_log": (E, Ns), q + "D": (E,), q + "D_b": (E,)})
            for sfx in ("", "_b"):
                w.update({q + f"conv1d{sfx}.weight": (E, 1, K), q + f"conv1d{sfx}.bias": (E,),
                          q + f"x_proj{sfx}.weight": (R + 2 * Ns, E), q + f"dt_proj{sfx}.weight": (E, R),
                          q + f"dt_proj{sfx}.bias": (E,)})
    return w


@pytest.fixture(scope="module")
def b256_model():
    # Construction only (a b256 forward is too slow for CPU tests), and without PyTorch's
    # default initializers, which take seconds for 129 M parameters on a busy 2-core machine.
    layers = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.Embedding,
              torch.nn.LayerNorm)
    saved = {layer: layer.reset_parameters for layer in layers}
    try:
        for layer in layers:
            layer.reset_parameters = lambda self: None
        return SCTDiff(b256_config())
    finally:
        for layer, method in saved.items():
            layer.reset_parameters = method


@pytest.mark.parametrize("name", ["tiny", "micro"])
def test_state_dict_is_exactly_the_contract(name):
    cfg = get_config(name)
    state = SCTDiff(cfg).state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == contract_weights(cfg)
    assert all(v.dtype == torch.float32 for v in state.values())


def test_b256_state_dict_and_parameter_counts(b256_model):
    state = b256_model.state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == contract_weights(b256_config())
    encoder = sum(p.numel() for p in b256_model.encoder.parameters())
    decoder = sum(p.numel() for p in b256_model.decoder.parameters())
    assert encoder == 85_894_656  # ViT-B/16 ~86 M (+ 2nd position table and type embeddings)
    assert 40e6 <= decoder <= 45e6 and decoder == 43_124_002
    block = sum(p.numel() for p in b256_model.decoder.blocks[0].vis_proj.parameters())
    assert block == 512 * 768 * 4 + 512


def test_tiny_parameter_counts():
    model = SCTDiff(tiny_config())
    assert sum(p.numel() for p in model.encoder.parameters()) == 2_833_152
    assert sum(p.numel() for p in model.decoder.parameters()) == 3_156_898


def test_dt_rank_is_ceil_dim_over_16_for_named_configs():
    for name in ("tiny", "b256", "micro"):
        cfg = get_config(name)
        assert cfg.decoder.dt_rank == math.ceil(cfg.decoder.dim / 16)


def test_config_round_trips_through_json_and_rejects_bad_sizes():
    cfg = b256_config()
    assert ModelConfig.from_json(cfg.to_json()) == cfg
    bad = micro_config()
    bad.decoder.dt_rank = 3
    with pytest.raises(ValueError, match="Expected decoder.dt_rank = ceil"):
        bad.validate()
    with pytest.raises(ValueError, match="Expected a config name"):
        get_config("huge")


def test_stage_shapes_tiny():
    cfg = tiny_config()
    model = SCTDiff(cfg).eval()
    z = torch.randn(2, 3, 64, 64)
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        features = model.encode(z, z, x)
        assert features.shape == (2, 8, 8, 192)
        assert model.encode(z[0], z[0], x[0]).shape == (8, 8, 192)
        out = model.decode(torch.randn(6, 8, 8, 192), torch.zeros(6, 4, dtype=torch.long), [999] * 6, 1)
    assert out["logits"].shape == (6, 6, 802)
    assert out["tokens"].shape == (6, 4) and out["tokens"].dtype == torch.long
    assert out["scores"].shape == (6, 4) and out["frame_scores"].shape == (6,)
    assert out["noise"].shape == (6, 4, 128)
