"""plot_curves.py: where each run's curve starts, and a figure written from real-shaped logs."""
import json

import pytest

from plot_curves import main, x_offsets


def test_stages_follow_one_another_and_parallel_runs_share_the_origin():
    assert x_offsets([100.0, 40.0, 10.0], parallel=False) == [0.0, 100.0, 140.0]
    assert x_offsets([100.0, 40.0], parallel=True) == [0.0, 0.0]


@pytest.mark.parametrize("parallel", [False, True])
def test_writes_a_png(tmp_path, parallel):
    pytest.importorskip("matplotlib")
    logs = []
    for run in ("a", "b"):
        log = tmp_path / run / "log.jsonl"
        log.parent.mkdir()
        lines = [{"step": s, "loss": 7.0 - s / 100, "ce": 3.0, "siou": 0.2} for s in range(20, 220, 20)]
        lines.append({"step": 200, "val_loss": 6.9, "val_iou_t_new": 0.7})
        log.write_text("config: {}\n" + "\n".join(json.dumps(x) for x in lines) + "\n")
        logs.append(str(log))
    out = tmp_path / "curves.png"
    args = [*logs, "--labels", "a", "b", "--batch-sizes", "8", "8", "--out", str(out)]
    assert main(args + (["--parallel"] if parallel else [])) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
