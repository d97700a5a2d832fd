"""The training suite runs under Debian's python3 with python3-torch (CPU)."""
import torch


def test_torch_is_importable_and_runs_on_cpu():
    x = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    assert torch.allclose(x.sum(dim=1), torch.tensor([3.0, 12.0]))
