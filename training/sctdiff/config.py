"""Model configuration: one schema for every size of the network (docs/model.md, "Config").

The JSON form of `ModelConfig.to_dict()` is what the safetensors metadata key `config`
holds, so the field names here are the contract's names and must not be renamed.
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List


@dataclass
class EncoderConfig:
    """OSTrack one-stream ViT over [template 0 | template 1 | search] patches."""

    patch: int = 16
    dim: int = 192
    depth: int = 6
    heads: int = 3
    mlp: int = 768
    search_size: int = 128
    template_size: int = 64
    search_factor: float = 4.0
    template_factor: float = 2.0
    ln_eps: float = 1e-6

    @property
    def search_grid(self) -> int:
        """Patches per side of the search crop (Hs = Ws)."""
        return self.search_size // self.patch

    @property
    def template_grid(self) -> int:
        """Patches per side of a template crop."""
        return self.template_size // self.patch


@dataclass
class DecoderConfig:
    """Stack of diffusion blocks (vision expert, language expert, fused bimodal scan)."""

    dim: int = 128
    blocks: int = 6
    d_state: int = 16
    d_conv: int = 4
    expand: int = 2
    dt_rank: int = 8
    vis_stride: int = 2
    clip_len: int = 6
    rms_eps: float = 1e-5

    @property
    def inner(self) -> int:
        """Mamba inner width E = expand * dim."""
        return self.expand * self.dim


@dataclass
class TokenConfig:
    """ARTrack-style coordinate vocabulary: 2*bins coordinate tokens, then Begin and End."""

    bins: int = 400
    range_min: float = -0.5
    range_max: float = 1.5
    vocab: int = 802
    begin: int = 800
    end: int = 801


@dataclass
class DiffusionConfig:
    """Cosine schedule over T steps and the two inference timesteps."""

    T: int = 1000
    schedule: str = "cosine"
    s: float = 0.008
    t_new: int = 999
    t_refine: int = 500


@dataclass
class PixelConfig:
    """ImageNet normalization applied after /255 (RGB order)."""

    mean: List[float] = field(default_factory=lambda: [0.485, 0.456, 0.406])
    std: List[float] = field(default_factory=lambda: [0.229, 0.224, 0.225])


@dataclass
class ModelConfig:
    """The whole network's configuration (`name` is "tiny", "b256" or a custom name)."""

    name: str = "tiny"
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    tokens: TokenConfig = field(default_factory=TokenConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    pixel: PixelConfig = field(default_factory=PixelConfig)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        """Compact JSON with a stable key order (what goes into the safetensors metadata)."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @staticmethod
    def from_dict(data: Dict[str, Any]) -> "ModelConfig":
        config = ModelConfig(
            name=str(data["name"]),
            encoder=EncoderConfig(**data["encoder"]),
            decoder=DecoderConfig(**data["decoder"]),
            tokens=TokenConfig(**data["tokens"]),
            diffusion=DiffusionConfig(**data["diffusion"]),
            pixel=PixelConfig(**data.get("pixel", {})),
        )
        config.validate()
        return config

    @staticmethod
    def from_json(text: str) -> "ModelConfig":
        return ModelConfig.from_dict(json.loads(text))

    def validate(self) -> None:
        """Raise ValueError on any inconsistent size (the message names the field)."""
        e, d, t = self.encoder, self.decoder, self.tokens

        def expect(condition: bool, what: str, value: Any) -> None:
            if not condition:
                raise ValueError(f"Expected {what} but received {value!r}")

        expect(e.dim % e.heads == 0, "encoder.dim divisible by encoder.heads", (e.dim, e.heads))
        expect(e.search_size % e.patch == 0, "encoder.search_size a multiple of patch", e.search_size)
        expect(e.template_size % e.patch == 0, "encoder.template_size a multiple of patch", e.template_size)
        expect(e.search_grid % d.vis_stride == 0, "search grid divisible by decoder.vis_stride",
               (e.search_grid, d.vis_stride))
        expect(d.dim % 2 == 0, "an even decoder.dim (sinusoidal timestep embedding)", d.dim)
        expect(d.dt_rank == math.ceil(d.dim / 16), "decoder.dt_rank = ceil(dim/16)", d.dt_rank)
        expect(t.vocab == 2 * t.bins + 2 and t.begin == 2 * t.bins and t.end == 2 * t.bins + 1,
               "vocab = 2*bins+2 with begin = 2*bins and end = 2*bins+1", (t.vocab, t.begin, t.end))
        expect(0 <= self.diffusion.t_refine < self.diffusion.T and 0 <= self.diffusion.t_new < self.diffusion.T,
               "t_new and t_refine in [0, T)", (self.diffusion.t_new, self.diffusion.t_refine))

    def copy(self) -> "ModelConfig":
        return copy.deepcopy(self)


def tiny_config() -> ModelConfig:
    """The small model: trains in ~20 min on one H100, runs tens of fps on 2 CPU cores."""
    return ModelConfig(name="tiny")


def b256_config() -> ModelConfig:
    """The paper's model: ViT-B/16 at 256/128 px, decoder width 512."""
    return ModelConfig(
        name="b256",
        encoder=EncoderConfig(dim=768, depth=12, heads=12, mlp=3072, search_size=256, template_size=128),
        decoder=DecoderConfig(dim=512, dt_rank=32),
    )


def micro_config() -> ModelConfig:
    """Golden-sized model (~0.3 M parameters, ~1 MB of weights) for the committed goldens.

    Same crops, token counts, vocabulary, clip length and Mamba state/conv sizes as tiny;
    only widths and depths shrink, so every code path of tiny is exercised (two heads,
    dt_rank 2, vis_stride 2) while the fixture stays small enough to commit.
    """
    return ModelConfig(
        name="micro",
        encoder=EncoderConfig(dim=64, depth=2, heads=2, mlp=128),
        decoder=DecoderConfig(dim=32, blocks=2, dt_rank=2),
    )


CONFIGS = {"tiny": tiny_config, "b256": b256_config, "micro": micro_config}


def get_config(name: str) -> ModelConfig:
    """Named config ("tiny" or "b256"); raises ValueError for an unknown name."""
    if name not in CONFIGS:
        raise ValueError(f"Expected a config name in {sorted(CONFIGS)} but received {name!r}")
    return CONFIGS[name]()
