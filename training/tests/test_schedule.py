"""Cosine schedule values."""
import math

import numpy as np
import pytest

from sctdiff.schedule import alphas_cumprod, cosine_betas, noise_coefficients


def f(u, s=0.008):
    return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2


def test_unclipped_product_telescopes_to_the_closed_form():
    abar = alphas_cumprod(1000, 0.008)
    # prod_{i<=t} f((i+1)/T)/f(i/T) = f((t+1)/T)/f(0) while no beta is clipped.
    for t in [0, 1, 10, 250, 500, 750, 900, 990]:
        assert abar[t] == pytest.approx(f((t + 1) / 1000) / f(0), rel=1e-12)


def test_documented_values_and_last_clipped_step():
    betas = cosine_betas(1000)
    assert betas[-1] == 0.999  # the last step is clipped
    assert np.all(betas[:-1] < 0.999)
    abar = alphas_cumprod()
    assert abar[0] == pytest.approx(0.999958715775178, rel=1e-14)
    assert abar[500] == pytest.approx(0.49228517244880304, rel=1e-14)
    assert abar[999] == pytest.approx(2.4287669070348567e-09, rel=1e-10)
    assert np.all(np.diff(abar) < 0)


def test_noise_coefficients_and_range_check():
    a, b = noise_coefficients([0, 500, 999])
    np.testing.assert_allclose(a ** 2 + b ** 2, 1.0, rtol=1e-12)
    with pytest.raises(ValueError, match="Expected timesteps in"):
        noise_coefficients([1000])
