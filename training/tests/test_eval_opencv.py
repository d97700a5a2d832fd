"""training/eval_opencv.py: the static floor tracker and the GOT-10k score definitions."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_opencv import got10k_scores, rect_iou, run_tracker  # noqa: E402


def test_the_static_floor_repeats_the_initial_box_exactly():
    frames = [np.full((40, 60, 3), i, np.uint8) for i in range(5)]
    boxes, times = run_tracker("static", frames, np.array([10.5, 4.25, 20.0, 12.0]))
    assert boxes.shape == (5, 4) and times.shape == (5,)
    assert np.array_equal(boxes, np.tile([10.5, 4.25, 20.0, 12.0], (5, 1)))


def test_scores_follow_got10k_definitions_on_a_hand_case():
    same = rect_iou(np.array([[0.0, 0, 10, 10]]), np.array([[0.0, 0, 10, 10]]), (100, 100))
    half = rect_iou(np.array([[0.0, 0, 10, 10]]), np.array([[5.0, 0, 10, 10]]), (100, 100))
    assert same[0] == 1.0 and abs(half[0] - 50 / 150) < 1e-12
    scores = got10k_scores([np.array([1.0, 0.6]), np.array([0.2, 0.8])])
    assert abs(scores["AO"] - 0.65) < 1e-12
    assert scores["SR0.5"] == 0.75 and scores["SR0.75"] == 0.5
