"""training/failure_modes.py: lost-for-good sequences, precision and attribute groups."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from failure_modes import main, read_outcomes, summary  # noqa: E402

FRAMES = 20
TARGET = (10.0, 10.0, 20.0, 20.0)
IMAGE = (100, 80)


def write_set(root: Path, attributes: dict, absent: dict | None = None, target: tuple = TARGET) -> Path:
    """A make_valset.py-shaped folder of IMAGE-sized frames: a static target per sequence, cover 0 on `absent` frames."""
    val = root / "set" / "val"
    val.mkdir(parents=True)
    sequences = []
    for name, attrs in attributes.items():
        folder = val / name
        folder.mkdir()
        (folder / "groundtruth.txt").write_text("\n".join(",".join(map(str, target)) for _ in range(FRAMES)) + "\n")
        cover = np.full(FRAMES, 8)
        cover[list((absent or {}).get(name, []))] = 0
        (folder / "cover.label").write_text("\n".join(map(str, cover)) + "\n")
        sequences.append({"name": name, **attrs})
    (val / "meta.json").write_text(json.dumps({"config": {"width": IMAGE[0], "height": IMAGE[1]}, "sequences": sequences}))
    return root / "set"


def write_eval(root: Path, boxes_by_name: dict) -> Path:
    for name, boxes in boxes_by_name.items():
        folder = root / "eval" / "results" / name
        folder.mkdir(parents=True)
        (folder / f"{name}_001.txt").write_text("\n".join(",".join(map(str, b)) for b in boxes) + "\n")
    return root / "eval"


def shifted(dx: float) -> tuple:
    return (TARGET[0] + dx, TARGET[1], TARGET[2], TARGET[3])


def test_iou_is_bounded_by_the_image_as_got10k_scores_it(tmp_path):
    # A target half outside the 100-pixel-wide frame, tracked by its visible half: unbounded IoU
    # would be 0.5, got10k's (and lib/eval's) is 1.
    outside = (90.0, 10.0, 20.0, 20.0)
    dataset = write_set(tmp_path, {"s": {}}, target=outside)
    (o,) = read_outcomes(dataset, write_eval(tmp_path, {"s": [outside] + [(90.0, 10.0, 10.0, 20.0)] * (FRAMES - 1)}))
    assert o.ao == pytest.approx(1.0)
    assert o.lost_share == 0 and not o.lost_for_good


def test_a_target_lost_for_good_is_told_from_an_imprecise_one(tmp_path):
    attrs = {"lost": {"distractors": 2, "occluders": 1, "absent_frames": 0},
             "loose": {"distractors": 0, "occluders": 0, "absent_frames": 0}}
    dataset = write_set(tmp_path, attrs)
    lost = [TARGET] * 10 + [shifted(100.0)] * 10  # exact for 9 counted frames, then gone
    loose = [TARGET] + [shifted(10.0)] * 19  # always overlapping, IoU 1/3
    outcomes = {o.name: o for o in read_outcomes(dataset, write_eval(tmp_path, {"lost": lost, "loose": loose}))}
    assert outcomes["lost"].lost_for_good and not outcomes["loose"].lost_for_good
    assert outcomes["lost"].ao == pytest.approx(9 / 19)
    assert outcomes["lost"].overlap_iou == pytest.approx(1.0)
    assert outcomes["loose"].overlap_iou == pytest.approx(1 / 3)
    rows = summary(list(outcomes.values()))
    assert rows["sequences lost for good"] == 1
    assert rows["AO points they cost"] == pytest.approx((1 - 9 / 19) / 2)
    assert rows["AO, distractors 2 (n=1)"] == pytest.approx(9 / 19)
    assert rows["AO, no occluder (n=1)"] == pytest.approx(1 / 3)


def test_a_recovered_target_is_not_lost_for_good_and_absent_frames_do_not_count(tmp_path):
    dataset = write_set(tmp_path, {"s": {"absent_frames": 5}}, absent={"s": range(1, 6)})
    # Wrong only while the target is absent (not counted), then lost for 5 frames and found again.
    boxes = [TARGET] + [shifted(100.0)] * 5 + [TARGET] * 4 + [shifted(100.0)] * 5 + [TARGET] * 5
    (o,) = read_outcomes(dataset, write_eval(tmp_path, {"s": boxes}))
    assert o.lost_share == pytest.approx(5 / 14)
    assert o.recovered_share == pytest.approx(5 / 10)
    assert not o.lost_for_good
    assert summary([o])["AO, target absent a while (n=1)"] == pytest.approx(9 / 14)


def test_bad_inputs_are_reported_not_raised(tmp_path, capsys):
    dataset = write_set(tmp_path, {"s": {}})
    short = write_eval(tmp_path, {"s": [TARGET] * 3})
    assert main([str(dataset), str(short)]) == 1
    assert "3 boxes for the 20 frames" in capsys.readouterr().err
    assert main([str(tmp_path), str(short)]) == 1
    assert "made by make_valset.py" in capsys.readouterr().err
    (dataset / "val" / "s" / "cover.label").write_text("8\n8\n")
    assert main([str(dataset), str(write_eval(tmp_path / "full", {"s": [TARGET] * FRAMES}))]) == 1
    assert "2 labels for the 20 frames" in capsys.readouterr().err
    (dataset / "val" / "meta.json").write_text(json.dumps({"sequences": [{"name": "s"}]}))
    assert main([str(dataset), str(short)]) == 1
    assert "no config.width, config.height and sequences" in capsys.readouterr().err


def test_the_report_puts_runs_side_by_side(tmp_path, capsys):
    dataset = write_set(tmp_path, {"s": {}})
    run = write_eval(tmp_path, {"s": [TARGET] * FRAMES})
    assert main([str(dataset), str(run), str(run)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [str(run), str(run)]
    assert lines[2].split()[-2:] == ["1.000", "1.000"]
