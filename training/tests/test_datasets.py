"""Dataset readers on small folders generated in each benchmark's layout."""
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sctdiff.datasets import (Coco, Got10k, LaSOT, SyntheticSource, TrackingNet, open_source,  # noqa: E402
                              write_got10k_sequence)
from sctdiff.photos import PhotoLibrary  # noqa: E402


def frames_with_marker(count, boxes, size=(48, 64)):
    """Frames whose pixel values encode the frame index, so readers can be checked for off-by-one."""
    out = []
    for i in range(count):
        frame = np.full((*size, 3), 10 * i, np.uint8)
        x, y, w, h = boxes[i].astype(int)
        frame[y:y + h, x:x + w] = 255
        out.append(frame)
    return out


def write_jpg(path, rgb):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 100])


BOXES = np.array([[4, 5, 10, 12], [6, 5, 10, 12], [8, 6, 11, 12], [10, 7, 11, 13]], float)


def test_got10k_layout_round_trip(tmp_path):
    root = tmp_path / "got10k"
    write_got10k_sequence(root / "val" / "GOT-10k_Val_000001", frames_with_marker(4, BOXES), BOXES,
                          absence=np.array([0, 0, 1, 0]), cover=np.array([8, 5, 0, 3]))
    write_got10k_sequence(root / "val" / "GOT-10k_Val_000002", frames_with_marker(4, BOXES), BOXES,
                          absence=np.zeros(4), cover=np.full(4, 8))
    (root / "val" / "list.txt").write_text("GOT-10k_Val_000001\nGOT-10k_Val_000002\n")
    ds = Got10k(str(root), "val")
    assert len(ds) == 2
    seq = ds.sequence(0)
    assert seq.name == "GOT-10k_Val_000001" and len(seq) == 4
    np.testing.assert_allclose(seq.boxes, BOXES)
    assert seq.visible.tolist() == [True, True, False, True]
    assert abs(int(seq.frame(3)[0, 0, 0]) - 30) <= 2  # frame 3 = 00000004.jpg
    # Evaluators clip boxes to the image size they read from meta_info.ini (got10k toolkit).
    meta = (root / "val" / "GOT-10k_Val_000001" / "meta_info.ini").read_text()
    assert "resolution: (64, 48)" in meta.splitlines()


def test_lasot_layout(tmp_path):
    folder = tmp_path / "lasot" / "airplane" / "airplane-1"
    for i, frame in enumerate(frames_with_marker(4, BOXES)):
        write_jpg(folder / "img" / f"{i + 1:08d}.jpg", frame)
    (folder / "groundtruth.txt").write_text("".join(f"{int(b[0])},{int(b[1])},{int(b[2])},{int(b[3])}\n" for b in BOXES))
    (folder / "full_occlusion.txt").write_text("0,1,0,0")
    (folder / "out_of_view.txt").write_text("0,0,0,1")
    ds = LaSOT(str(tmp_path / "lasot"))
    assert len(ds) == 1
    seq = ds.sequence(0)
    assert seq.name == "airplane-1"
    assert seq.visible.tolist() == [True, False, True, False]
    assert abs(int(seq.frame(2)[0, 0, 0]) - 20) <= 2
    assert len(LaSOT(str(tmp_path / "lasot"), names=["airplane-1"])) == 1


def test_trackingnet_layout_is_zero_based(tmp_path):
    chunk = tmp_path / "trackingnet" / "TRAIN_0"
    for i, frame in enumerate(frames_with_marker(4, BOXES)):
        write_jpg(chunk / "frames" / "abc_1" / f"{i}.jpg", frame)
    (chunk / "anno").mkdir(parents=True)
    rows = BOXES.copy()
    rows[1, 2] = 0  # an invalid (empty) box counts as not visible
    (chunk / "anno" / "abc_1.txt").write_text("".join(",".join(f"{v:.2f}" for v in b) + "\n" for b in rows))
    ds = TrackingNet(str(tmp_path / "trackingnet"))
    seq = ds.sequence(0)
    assert seq.name == "abc_1" and len(seq) == 4
    assert seq.visible.tolist() == [True, False, True, True]
    assert abs(int(seq.frame(0)[0, 0, 0]) - 0) <= 2 and abs(int(seq.frame(1)[0, 0, 0]) - 10) <= 2


def test_coco_layout_objects_become_single_frame_sequences(tmp_path):
    root = tmp_path / "coco"
    write_jpg(root / "train2017" / "000000000009.jpg", frames_with_marker(1, BOXES)[0])
    annotations = {
        "images": [{"id": 9, "file_name": "000000000009.jpg"}],
        "annotations": [
            {"image_id": 9, "bbox": [4, 5, 10, 12], "iscrowd": 0},
            {"image_id": 9, "bbox": [1, 1, 30, 30], "iscrowd": 1},  # crowd: skipped
            {"image_id": 9, "bbox": [1, 1, 3, 3], "iscrowd": 0},  # too small: skipped
        ],
    }
    (root / "annotations").mkdir(parents=True)
    (root / "annotations" / "instances_train2017.json").write_text(json.dumps(annotations))
    ds = Coco(str(root))
    assert len(ds) == 1
    seq = ds.sequence(0)
    assert len(seq) == 1 and seq.visible.tolist() == [True]
    np.testing.assert_allclose(seq.boxes[0], [4, 5, 10, 12])
    assert seq.frame(0).shape == (48, 64, 3)
    assert isinstance(open_source(f"coco:{root}:train2017"), Coco)


def test_synthetic_source_is_deterministic_and_its_crops_match_its_frames():
    lib = PhotoLibrary.load("train", max_side=200)
    src = SyntheticSource(lib, seed=3)
    a, b = src.sequence(5), src.sequence(5)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    assert a.frame(0).shape[0] in (240, 288, 360, 480)
    assert a.cropper is not None


def test_open_source_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="Expected a source spec"):
        open_source("vot:/tmp")
