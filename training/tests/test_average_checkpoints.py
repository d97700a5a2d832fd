"""training/average_checkpoints.py: the weight average of runs that share a start."""
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from average_checkpoints import average_checkpoints, main  # noqa: E402
from export import model_from_checkpoint, training_provenance  # noqa: E402
from sctdiff.config import get_config  # noqa: E402
from sctdiff.model import build_model  # noqa: E402


def write_checkpoint(path, model, seed, step, shift):
    state = {name: (t + shift if t.is_floating_point() else t.clone()) for name, t in model.state_dict().items()}
    torch.save({"version": 1, "model": state, "config": get_config("micro").to_dict(),
                "step": step, "data_position": step * 8, "args": {"stage": 2, "seed": seed, "lr": 1e-4},
                "aux_head": {"score.weight": torch.full((1, 4), float(shift))}}, path)
    return state


@pytest.fixture()
def micro_model():
    torch.manual_seed(0)
    return build_model(get_config("micro"))


def test_the_average_is_the_entrywise_mean_and_exports_as_a_model(tmp_path, micro_model):
    a = write_checkpoint(tmp_path / "a.pt", micro_model, seed=4, step=5000, shift=0.25)
    b = write_checkpoint(tmp_path / "b.pt", micro_model, seed=5, step=4000, shift=-0.75)
    out = tmp_path / "ab" / "last.pt"
    assert main([str(tmp_path / "a.pt"), str(tmp_path / "b.pt"), "--out", str(out)]) == 0
    averaged = torch.load(out, map_location="cpu")
    for name, tensor in averaged["model"].items():
        if tensor.is_floating_point():
            assert torch.allclose(tensor, (a[name] + b[name]) / 2, atol=1e-6), name
        else:
            assert torch.equal(tensor, a[name]), name
    assert torch.allclose(averaged["aux_head"]["score.weight"], torch.full((1, 4), -0.25))
    assert "optimizer" not in averaged  # a start for --init-from, not a run to --resume
    model = model_from_checkpoint(str(out), "micro")  # loads strictly: every tensor is there
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in micro_model.parameters())
    record = training_provenance(averaged)
    assert record["checkpoint_step"] == 5000 and record["samples_seen"] == 9000 * 8
    assert record["run"]["seed"] == [4, 5]
    assert [entry["seed"] for entry in record["averaged_from"]] == [4, 5]


def test_checkpoints_that_do_not_match_are_refused(tmp_path, micro_model):
    write_checkpoint(tmp_path / "a.pt", micro_model, seed=1, step=10, shift=0.0)
    with pytest.raises(ValueError, match="at least 2 checkpoints"):
        average_checkpoints([tmp_path / "a.pt"])
    other = {"version": 1, "model": {"x": torch.zeros(2)}, "config": get_config("micro").to_dict(), "step": 1,
             "args": {"stage": 2},
             "aux_head": {"score.weight": torch.zeros(1, 4)}}
    torch.save(other, tmp_path / "b.pt")
    with pytest.raises(ValueError, match="same model tensors"):
        average_checkpoints([tmp_path / "a.pt", tmp_path / "b.pt"])
    stage1 = torch.load(tmp_path / "a.pt")
    stage1["args"]["stage"] = 1
    torch.save(stage1, tmp_path / "c.pt")
    with pytest.raises(ValueError, match="one training stage"):
        average_checkpoints([tmp_path / "a.pt", tmp_path / "c.pt"])
    broken = torch.load(tmp_path / "a.pt")
    name = next(n for n, t in broken["model"].items() if t.is_floating_point())
    broken["model"][name] = broken["model"][name] * float("nan")
    torch.save(broken, tmp_path / "d.pt")
    with pytest.raises(ValueError, match="not finite"):
        average_checkpoints([tmp_path / "a.pt", tmp_path / "d.pt"])
    assert main([str(tmp_path / "a.pt"), str(tmp_path / "c.pt"), "--out", str(tmp_path / "x.pt")]) == 2
    assert not (tmp_path / "x.pt").exists()
