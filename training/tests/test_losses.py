"""Hand cases for the objective: SIoU, the token grid, and the CE + 2 SIoU total."""
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sctdiff.losses import (LossWeights, TokenGrid, bin_centers, dequantize, expected_coordinates,  # noqa: E402
                            quantize, siou_loss, tracking_loss)

GRID = TokenGrid()


def box(x1, y1, x2, y2):
    return torch.tensor([x1, y1, x2, y2], dtype=torch.float32)


def test_siou_of_identical_boxes_is_zero():
    for b in [box(0.2, 0.3, 0.6, 0.9), box(-0.4, 0.0, 1.4, 0.1)]:
        assert siou_loss(b, b).item() == 0.0 or abs(siou_loss(b, b).item()) < 1e-6


def test_siou_grows_with_offset():
    target = box(0.4, 0.4, 0.6, 0.6)
    values = [siou_loss(target + torch.tensor([d, 0, d, 0]), target).item() for d in (0.0, 0.02, 0.05, 0.1, 0.3)]
    assert all(a < b for a, b in zip(values, values[1:])), values


def test_siou_disjoint_boxes_exceed_one():
    target = box(0.0, 0.0, 0.1, 0.1)
    assert siou_loss(box(0.5, 0.5, 0.6, 0.6), target).item() > 1.0


def test_siou_angle_cost_peaks_at_45_degrees():
    # Same centre distance, different direction: axis-aligned offsets cost the least.
    target = box(0.4, 0.4, 0.6, 0.6)
    r = 0.05

    def at(angle):
        dx, dy = r * math.cos(angle), r * math.sin(angle)
        return siou_loss(target + torch.tensor([dx, dy, dx, dy]), target).item()

    horizontal, diagonal, vertical = at(0.0), at(math.pi / 4), at(math.pi / 2)
    assert diagonal > horizontal
    assert diagonal > vertical
    assert abs(horizontal - vertical) < 1e-6  # square target: symmetric


def test_siou_angle_term_matches_hand_value():
    # Horizontal offset: Lambda = 0, gamma = 2. Boxes of side 0.2, offset 0.1 -> IoU 1/3,
    # enclosing width 0.3, rho_x = (0.1/0.3)^2, no shape cost.
    target = box(0.0, 0.0, 0.2, 0.2)
    pred = box(0.1, 0.0, 0.3, 0.2)
    rho = (0.1 / 0.3) ** 2
    expected = 1 - (0.02 / 0.06) + (1 - math.exp(-2 * rho)) / 2
    assert abs(siou_loss(pred, target).item() - expected) < 1e-5


def test_siou_shape_cost():
    target = box(0.4, 0.4, 0.6, 0.6)
    wider = box(0.35, 0.4, 0.65, 0.6)  # same centre, width 0.3 vs 0.2
    much_wider = box(0.2, 0.4, 0.8, 0.6)
    omega = 0.1 / 0.3
    iou = 0.04 / 0.06
    expected = 1 - iou + ((1 - math.exp(-omega)) ** 4) / 2
    assert abs(siou_loss(wider, target).item() - expected) < 1e-5
    assert siou_loss(much_wider, target).item() > siou_loss(wider, target).item()


def test_siou_is_differentiable_everywhere_including_identical_boxes():
    pred = box(0.2, 0.2, 0.5, 0.5).requires_grad_(True)
    siou_loss(pred, box(0.2, 0.2, 0.5, 0.5)).backward()
    assert torch.isfinite(pred.grad).all()


def test_quantize_truncates_and_dequantize_gives_bin_centres():
    c = torch.tensor([-0.5, 0.0, 0.5, 1.5, -3.0, 9.0, 0.25])
    k = quantize(c)
    assert k.tolist() == [0, 199, 399, 798, 0, 798, math.floor(0.75 * 399)]
    # Every in-range value lies within half a bin of its token's centre.
    inner = torch.linspace(-0.5, 1.5, 1001)[:-1]
    err = (dequantize(quantize(inner)) - inner.double()).abs().max().item()
    assert err <= 0.5 / 399 + 1e-12


def test_bin_centres_match_the_tokenizer_grid():
    centres = bin_centers(GRID, dtype=torch.float64)
    assert centres.shape == (800,)
    assert abs(centres[0].item() - (0.5 / 399 - 0.5)) < 1e-12
    assert abs(centres[399].item() - (399.5 / 399 - 0.5)) < 1e-12


def test_expected_coordinates_of_a_peaked_softmax_is_that_bin_centre():
    logits = torch.full((802,), -1e4)
    logits[321] = 0.0
    logits[800] = 50.0  # Begin mass must not leak into the coordinate expectation
    assert abs(expected_coordinates(logits).item() - dequantize(torch.tensor(321)).item()) < 1e-6


def make_logits(tokens, sharpness):
    logits = torch.zeros(*tokens.shape, 802)
    logits.scatter_(-1, tokens.unsqueeze(-1), sharpness)
    return logits


def tokens_for(boxes):
    b = boxes.shape[:-1]
    coord = quantize(boxes)
    begin = torch.full((*b, 1), 800)
    end = torch.full((*b, 1), 801)
    return torch.cat([begin, coord, end], dim=-1)


def test_tracking_loss_is_small_for_confident_correct_logits_and_larger_when_wrong():
    boxes = torch.tensor([[[0.2, 0.3, 0.6, 0.7], [0.25, 0.3, 0.65, 0.7]]])
    target = tokens_for(boxes)
    right = tracking_loss(make_logits(target, 30.0), target)
    wrong_tokens = tokens_for(boxes + 0.2)
    wrong = tracking_loss(make_logits(wrong_tokens, 30.0), target)
    assert right["loss"].item() < 1e-3
    assert right["token_accuracy"].item() == 1.0
    assert wrong["loss"].item() > 10.0
    assert wrong["siou"].item() > 0.5
    assert wrong["token_accuracy"].item() == 0.0


def test_tracking_loss_weights_ce_plus_two_siou():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 6, 802)
    target = tokens_for(torch.rand(2, 3, 4).sort(-1).values)
    out = tracking_loss(logits, target, weights=LossWeights())
    assert abs(out["loss"].item() - (out["ce"].item() + 2 * out["siou"].item())) < 1e-5


def test_tracking_loss_ignores_invalid_frames_and_down_weights_begin_end():
    torch.manual_seed(1)
    target = tokens_for(torch.tensor([[[0.2, 0.2, 0.5, 0.5], [0.1, 0.1, 0.4, 0.4]]]))
    logits = make_logits(target, 20.0)
    garbage = logits.clone()
    garbage[0, 1] = torch.randn(6, 802)
    valid = torch.tensor([[True, False]])
    masked = tracking_loss(garbage, target, valid=valid)
    clean = tracking_loss(logits, target, valid=valid)
    assert abs(masked["loss"].item() - clean["loss"].item()) < 1e-6

    # A wrong [Begin] costs 10x less than a wrong coordinate.
    bad_begin = logits.clone()
    bad_begin[0, 0, 0] = make_logits(torch.tensor(5), 20.0)
    bad_coord = logits.clone()
    bad_coord[0, 0, 1] = make_logits(torch.tensor(5), 20.0)
    ce_begin = tracking_loss(bad_begin, target, weights=LossWeights(siou=0.0))["loss"].item()
    ce_coord_only = tracking_loss(bad_coord, target, weights=LossWeights(siou=0.0))["loss"].item()
    assert abs(ce_coord_only / ce_begin - 10.0) < 0.1


def test_tracking_loss_gradient_reaches_logits():
    logits = torch.randn(1, 1, 6, 802, requires_grad=True)
    target = tokens_for(torch.tensor([[[0.3, 0.3, 0.6, 0.6]]]))
    tracking_loss(logits, target)["loss"].backward()
    assert logits.grad.abs().sum().item() > 0


def test_closed_form_angle_cost_equals_the_arcsin_definition():
    torch.manual_seed(2)
    target = box(0.3, 0.3, 0.5, 0.6)
    for _ in range(20):
        dx, dy = (torch.rand(2) - 0.5).tolist()
        pred = target + torch.tensor([dx, dy, dx, dy])
        sigma = math.hypot(dx, dy)
        lam = 1 - 2 * math.sin(math.asin(abs(dy) / sigma) - math.pi / 4) ** 2
        gamma = 2 - lam
        cw, ch = 0.2 + abs(dx), 0.3 + abs(dy)
        inter = max(0.0, 0.2 - abs(dx)) * max(0.0, 0.3 - abs(dy))
        iou = inter / (0.12 - inter)
        dist = (1 - math.exp(-gamma * (dx / cw) ** 2)) + (1 - math.exp(-gamma * (dy / ch) ** 2))
        assert abs(siou_loss(pred, target).item() - (1 - iou + dist / 2)) < 1e-5
