"""training/probe_image_use.py tells a decoder that reads the image from one that cannot."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from probe_image_use import probe  # noqa: E402
from sctdiff.config import micro_config  # noqa: E402
from sctdiff.model import build_model  # noqa: E402


def test_shuffled_features_move_a_live_decoder_and_not_a_blind_one():
    mc = micro_config()
    model = build_model(mc, seed=0).eval()
    live = probe(model, mc, samples=8, center_jitter=2.0)
    assert live["shuffled_shift"] > 0
    assert 0 <= live["iou"] <= 1 and 0 <= live["reference_iou"] <= 1
    assert live["target_std"] > 0.01
    with torch.no_grad():
        for block in model.decoder.blocks:  # the only path from the features into the decoder
            block.vis_proj.weight.zero_()
    blind = probe(model, mc, samples=8, center_jitter=2.0)
    assert blind["shuffled_shift"] == 0
    assert blind["reference_iou"] == live["reference_iou"]  # same samples
