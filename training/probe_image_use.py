"""Does a checkpoint's decoder use the image? A check for runs whose loss stalls.

  /usr/bin/python3 training/probe_image_use.py runs/tiny-s1/last.pt --center-jitter 2

On held-out stage-1 samples (new frames at t = t_new, the reference-box prior, as inference
runs them) it prints:
  - pred_std / target_std: how much the expected coordinates vary across samples, against how
    much the targets do (a decoder that ignores the image gives the same box every time);
  - shuffled_shift: the mean move of the expected coordinates when every sample gets another
    sample's encoder features (0: the features are ignored);
  - iou / reference_iou: argmax-decoded IoU, and the IoU of simply answering the box the crop
    was cut around (a model that tracks must beat it clearly).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from export import model_from_checkpoint  # noqa: E402
from sctdiff.config import ModelConfig  # noqa: E402
from sctdiff.data import SampleConfig, TrackingSamples, collate_samples  # noqa: E402
from sctdiff.datasets import SyntheticSource  # noqa: E402
from sctdiff.losses import TokenGrid, dequantize, expected_coordinates  # noqa: E402
from sctdiff.photos import PhotoLibrary  # noqa: E402
from sctdiff.train_loop import box_iou_from_tokens, encode_batch, token_box_iou  # noqa: E402


@torch.no_grad()
def probe(model, mc: ModelConfig, samples: int, center_jitter: float, seed: int = 10_007) -> dict:
    grid = TokenGrid.from_config(mc.tokens)
    config = SampleConfig(stage=1, high_t_fraction=1.0, center_jitter=center_jitter)
    data = TrackingSamples([SyntheticSource(PhotoLibrary.load("val", seed=1), seed=seed)], None, mc, config, seed=seed)
    batch = collate_samples([data[i] for i in range(samples)])
    features = encode_batch(model, batch, mc)
    timesteps = torch.full_like(batch["timesteps"], mc.diffusion.t_new)
    noise = torch.randn((samples, 1, 4, mc.decoder.dim), generator=torch.Generator().manual_seed(seed))
    logits = model.decoder(features, batch["prior"], timesteps, noise)
    shuffled = model.decoder(features.roll(1, 0), batch["prior"], timesteps, noise)
    expected = expected_coordinates(logits[..., 1:5, :], grid)
    target = dequantize(batch["target"][..., 1:5], grid)
    return {
        "pred_std": float(expected.std(0).mean()),
        "target_std": float(target.std(0).mean()),
        "shuffled_shift": float((expected - expected_coordinates(shuffled[..., 1:5, :], grid)).abs().mean()),
        "iou": float(box_iou_from_tokens(logits, batch["target"], grid).mean()),
        "reference_iou": float(token_box_iou(batch["prior"], batch["target"][..., 1:5], grid).mean()),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a training checkpoint (.pt)")
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--center-jitter", type=float, default=3.0, help="the run's --center-jitter (default 3)")
    args = parser.parse_args(argv)
    model = model_from_checkpoint(args.checkpoint, None).eval()
    print(json.dumps({k: round(v, 4) for k, v in probe(model, model.cfg, args.samples, args.center_jitter).items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
