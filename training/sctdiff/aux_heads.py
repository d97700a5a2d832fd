"""Training-only auxiliary head: a centre heatmap over the encoder's search tokens.

Why: trained from scratch (no MAE pretraining, unlike OSTrack's ViT), the encoder's search
tokens start with no notion of where the target is, so the decoder learns to answer the prior
box and sends the encoder almost no gradient (docs/training.md, "The second CPU run of
2026-12-05"). OSTrack's own head is a centre heatmap over the search tokens; asking the encoder
for one as well gives it a direct, dense signal about the target's position. The head is one
linear map per token and is not part of the model file (the engines never see it).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .losses import TokenGrid, dequantize


class CenterHeatmapHead(nn.Module):
    """Per-token logit of 'the target's centre is in this patch': features [..., Hs, Ws, D] -> [..., Hs*Ws]."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.score = nn.Linear(dim, 1)
        nn.init.zeros_(self.score.weight)
        nn.init.zeros_(self.score.bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.score(self.norm(features.float())).flatten(-3)


def center_heatmap_targets(target_tokens: torch.Tensor, grid_size: int, grid: TokenGrid,
                           sigma_cells: float) -> torch.Tensor:
    """Soft labels [..., Hs*Ws]: a Gaussian (sigma in patches) around the box centre, summing to 1."""
    box = dequantize(target_tokens[..., 1:5], grid).float()  # crop units
    cx = (box[..., 0] + box[..., 2]) / 2 * grid_size
    cy = (box[..., 1] + box[..., 3]) / 2 * grid_size
    centres = torch.arange(grid_size, device=target_tokens.device, dtype=torch.float32) + 0.5
    dx = (centres - cx[..., None]) ** 2  # [..., Ws]
    dy = (centres - cy[..., None]) ** 2  # [..., Hs]
    logits = -(dy[..., :, None] + dx[..., None, :]) / (2 * sigma_cells ** 2)
    return torch.softmax(logits.flatten(-2), dim=-1)


def center_heatmap_loss(head: CenterHeatmapHead, features: torch.Tensor, target_tokens: torch.Tensor,
                        valid: Optional[torch.Tensor], grid: TokenGrid, sigma_cells: float = 1.0) -> torch.Tensor:
    """Cross-entropy of the head's softmax over patches against `center_heatmap_targets`.

    features [B, N, Hs, Ws, D], target_tokens [B, N, 6], valid [B, N] (absent targets count 0).
    A centre outside the crop gets its mass on the nearest border patches, which is still the
    right direction to point the encoder.
    """
    logits = head(features)  # [B, N, Hs*Ws]
    soft = center_heatmap_targets(target_tokens, features.shape[-2], grid, sigma_cells)
    per_frame = -(soft * F.log_softmax(logits, dim=-1)).sum(-1)
    if valid is None:
        return per_frame.mean()
    mask = valid.float()
    return (per_frame * mask).sum() / mask.sum().clamp(min=1.0)
