"""The compiled CPU selective scan (sctdiff.scan_native): same values and gradients as the
Python definition, in the shapes the decoder uses, with and without the SiLU(z) gate."""
import shutil

import pytest
import torch

from sctdiff import scan_native
from sctdiff.config import micro_config
from sctdiff.model import build_model
from sctdiff.scan import selective_scan_sequential
from test_scan import random_scan_inputs

# .ci/run installs what the build needs (g++, ninja-build, libtorch-dev); elsewhere a missing
# tool is a reason to skip, not a failure of the op.
needs_build = pytest.mark.skipif(shutil.which("ninja") is None or shutil.which("g++") is None,
                                 reason="the CPU scan op is built with g++ and ninja")


@needs_build
@pytest.mark.parametrize("gated", [True, False])
@pytest.mark.parametrize("length", [1, 6, 22, 37])
def test_native_scan_matches_the_definition_values_and_gradients(gated, length):
    assert scan_native.available(), scan_native._error
    ref_inputs = [t.requires_grad_() for t in random_scan_inputs(batch=3, length=length, inner=20, state=16,
                                                                  dtype=torch.float64, seed=length)]
    nat_inputs = [t.detach().float().requires_grad_() for t in ref_inputs]
    if not gated:
        ref_inputs, nat_inputs = ref_inputs[:6], nat_inputs[:6]
    reference = selective_scan_sequential(*ref_inputs)
    native = scan_native.selective_scan_native(*nat_inputs)
    assert native.dtype == torch.float32 and native.shape == reference.shape
    rel = ((native.double() - reference).norm() / reference.norm()).item()
    assert rel < 1e-5
    upstream = torch.randn_like(reference)
    ref_grads = torch.autograd.grad((reference * upstream).sum(), ref_inputs)
    nat_grads = torch.autograd.grad((native * upstream.float()).sum(), nat_inputs)
    for name, r, n in zip(["u", "delta", "A", "B", "C", "D", "z"], ref_grads, nat_grads):
        # (with one step dA is exactly 0: h_{-1} = 0; then the error is absolute)
        err = ((n.double() - r).norm() / max(r.norm().item(), 1.0 if r.norm() == 0 else 1e-300)).item()
        assert err < 1e-5, f"d{name}: relative error {err}"


@needs_build
def test_a_decoder_in_native_mode_gives_the_sequential_decoders_loss_gradients():
    torch.manual_seed(0)
    mc = micro_config()
    model = build_model(mc, seed=3)
    grid = mc.encoder.search_grid
    features = torch.randn(2, 3, grid, grid, mc.encoder.dim)
    tokens = torch.randint(0, 800, (2, 3, 4))
    timesteps = torch.randint(0, 1000, (2, 3))
    noise = torch.randn(2, 3, 4, mc.decoder.dim)
    grads = {}
    for mode in ("sequential", "native"):
        model.set_scan_mode(mode)
        model.zero_grad()
        logits = model.decoder(features, tokens, timesteps, noise)
        logits.square().mean().backward()
        grads[mode] = (logits.detach(), {n: p.grad.clone() for n, p in model.decoder.named_parameters()})
    assert torch.allclose(grads["native"][0], grads["sequential"][0], rtol=1e-4, atol=1e-5)
    for name, g in grads["sequential"][1].items():
        other = grads["native"][1][name]
        assert torch.allclose(other, g, rtol=1e-3, atol=1e-6 + 1e-4 * g.abs().max().item()), name


def test_an_unknown_scan_mode_is_refused():
    with pytest.raises(ValueError, match="native"):
        from sctdiff.scan import selective_scan

        selective_scan(*random_scan_inputs(length=3), mode="fast")
