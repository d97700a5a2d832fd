"""Selective scan: chunked == sequential, and the BiMamba's two directions."""
import pytest
import torch
import torch.nn.functional as F

from sctdiff.config import DecoderConfig
from sctdiff.model import BiMamba, init_weights, SCTDiff
from sctdiff.config import micro_config
from sctdiff.scan import selective_scan, selective_scan_chunked, selective_scan_sequential


def random_scan_inputs(batch=2, length=37, inner=12, state=16, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(batch, length, inner, generator=g, dtype=dtype)
    delta = F.softplus(torch.randn(batch, length, inner, generator=g, dtype=dtype))
    A = -torch.exp(torch.randn(inner, state, generator=g, dtype=dtype))
    B = torch.randn(batch, length, state, generator=g, dtype=dtype)
    C = torch.randn(batch, length, state, generator=g, dtype=dtype)
    D = torch.randn(inner, generator=g, dtype=dtype)
    z = torch.randn(batch, length, inner, generator=g, dtype=dtype)
    return u, delta, A, B, C, D, z


def naive_scan(u, delta, A, B, C, D, z):
    """Scalar loops straight from the recurrence (independent of both implementations)."""
    batch, length, inner = u.shape
    y = torch.zeros_like(u)
    for b in range(batch):
        for e in range(inner):
            h = torch.zeros(A.shape[1], dtype=u.dtype)
            for t in range(length):
                h = torch.exp(delta[b, t, e] * A[e]) * h + delta[b, t, e] * B[b, t] * u[b, t, e]
                y[b, t, e] = (h * C[b, t]).sum() + D[e] * u[b, t, e]
    return y * F.silu(z)


def test_sequential_matches_scalar_definition():
    args = random_scan_inputs(batch=1, length=9, inner=3, state=4)
    torch.testing.assert_close(selective_scan_sequential(*args), naive_scan(*args), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("chunk", [1, 3, 8, 16, 64, 200])
@pytest.mark.parametrize("length", [1, 7, 37, 132])
def test_chunked_equals_sequential_float64(chunk, length):
    args = random_scan_inputs(length=length)
    diff = (selective_scan_chunked(*args, chunk=chunk) - selective_scan_sequential(*args)).abs().max()
    assert diff < 1e-6


def test_chunked_equals_sequential_float32_relative():
    args = random_scan_inputs(length=132, inner=32, dtype=torch.float32, seed=3)
    reference = selective_scan_sequential(*args)
    diff = (selective_scan_chunked(*args, chunk=64) - reference).abs().max() / reference.abs().max()
    assert diff < 1e-6


def test_chunked_survives_strong_decay_without_overflow():
    u, delta, A, B, C, D, z = random_scan_inputs(length=64, dtype=torch.float32)
    delta = delta * 50.0  # dt*A down to about -1000 per step: exp underflows, must not overflow
    out = selective_scan_chunked(u, delta, A, B, C, D, z, chunk=64)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, selective_scan_sequential(u, delta, A, B, C, D, z), rtol=1e-5, atol=1e-5)


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="Expected scan mode"):
        selective_scan(*random_scan_inputs(length=2), mode="parallel")


def test_chunked_scan_gradients_match_sequential():
    args = [a.clone().requires_grad_(True) for a in random_scan_inputs(length=20, inner=4)]
    selective_scan_chunked(*args, chunk=8).square().sum().backward()
    grads_chunked = [a.grad.clone() for a in args]
    for a in args:
        a.grad = None
    selective_scan_sequential(*args).square().sum().backward()
    for got, expected in zip(grads_chunked, [a.grad for a in args]):
        torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)


def bimamba(seed=0):
    model = init_weights(SCTDiff(micro_config()), seed)
    mamba: BiMamba = model.decoder.blocks[0].fuse_mamba
    with torch.no_grad():  # make the two directions clearly different
        mamba.A_b_log.add_(0.3)
        mamba.D_b.mul_(-2.0)
    return mamba.double()


def test_backward_direction_is_forward_scan_of_flipped_sequence_flipped_back():
    mamba = bimamba()
    x, z = torch.randn(2, 23, mamba.inner, dtype=torch.float64).unbind(0)
    x, z = x[None], z[None]
    backward = mamba.direction(x.flip(1), z.flip(1), backward=True).flip(1)
    # Same thing by hand: copy the backward weights into the forward slots and run forward.
    twin = bimamba()
    with torch.no_grad():
        twin.conv1d.load_state_dict(mamba.conv1d_b.state_dict())
        twin.x_proj.load_state_dict(mamba.x_proj_b.state_dict())
        twin.dt_proj.load_state_dict(mamba.dt_proj_b.state_dict())
        twin.A_log.copy_(mamba.A_b_log)
        twin.D.copy_(mamba.D_b)
    by_hand = twin.direction(x.flip(1), z.flip(1), backward=False).flip(1)
    torch.testing.assert_close(backward, by_hand, rtol=0, atol=0)
    # And the module output averages the two directions before out_proj.
    hidden = torch.randn(1, 23, mamba.out_proj.weight.shape[0], dtype=torch.float64)
    xs, zs = mamba.in_proj(hidden).chunk(2, dim=-1)
    expected = mamba.out_proj((mamba.direction(xs, zs, False) + mamba.direction(xs.flip(1), zs.flip(1), True).flip(1)) / 2)
    torch.testing.assert_close(mamba(hidden), expected)


def test_forward_direction_is_causal_and_backward_anti_causal():
    mamba = bimamba()
    x = torch.randn(1, 15, mamba.inner, dtype=torch.float64)
    z = torch.randn(1, 15, mamba.inner, dtype=torch.float64)
    x2 = x.clone()
    x2[:, 10:] += 1.0  # change only the future of position 9
    fwd1, fwd2 = mamba.direction(x, z, False), mamba.direction(x2, z, False)
    torch.testing.assert_close(fwd1[:, :10], fwd2[:, :10], rtol=0, atol=0)
    assert not torch.allclose(fwd1[:, 10:], fwd2[:, 10:])
    bwd1 = mamba.direction(x.flip(1), z.flip(1), True).flip(1)
    bwd2 = mamba.direction(x2.flip(1), z.flip(1), True).flip(1)
    assert not torch.allclose(bwd1[:, :10], bwd2[:, :10])  # the backward direction sees the future


def test_causal_conv_uses_zero_history():
    cfg = DecoderConfig(dim=8, dt_rank=1, d_conv=4)
    mamba = BiMamba(cfg).double()
    x = torch.randn(1, 6, cfg.inner, dtype=torch.float64)
    out = mamba.conv1d(x.transpose(1, 2))[..., :6].transpose(1, 2)
    w, b = mamba.conv1d.weight[:, 0, :], mamba.conv1d.bias
    padded = torch.cat([torch.zeros(1, 3, cfg.inner, dtype=torch.float64), x], dim=1)
    manual = torch.stack([(padded[0, l:l + 4].T * w).sum(-1) + b for l in range(6)])
    torch.testing.assert_close(out[0], manual)
