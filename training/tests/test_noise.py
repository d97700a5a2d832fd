"""The engines' noise generator against values computed by hand from its definition."""
import math

import numpy as np

from sctdiff.noise import MASK64, gaussian, splitmix64, splitmix64_int, trajectory_noise, uniform


def reference_splitmix64(x):
    # Written out again from docs/model.md with Python's unbounded ints.
    z = (x + 0x9E3779B97F4A7C15) % 2 ** 64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2 ** 64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2 ** 64
    return z ^ (z >> 31)


def test_splitmix64_known_values():
    # The first outputs of the canonical splitmix64 stream seeded with 0 (Vigna's reference):
    # next() = mix(state += gamma), i.e. our splitmix64(0) and splitmix64(gamma).
    assert splitmix64_int(0) == 0xE220A8397B1DCDAF
    assert splitmix64_int(0x9E3779B97F4A7C15) == 0x6E789E6AA1B965F4
    assert splitmix64_int(1) == 0x910A2DEC89025CC1


def test_vectorized_splitmix64_matches_int_version_including_wraparound():
    inputs = [0, 1, 2, 12345, 0x9E3779B97F4A7C15, MASK64, MASK64 - 0x9E3779B97F4A7C15 + 1]
    got = splitmix64(np.array(inputs, dtype=np.uint64))
    assert [int(v) for v in got] == [reference_splitmix64(x) for x in inputs]


def test_uniform_and_gaussian_by_hand():
    seed, index = 0xDEADBEEF12345678, 7
    u1 = ((reference_splitmix64(seed ^ reference_splitmix64(2 * index)) >> 11) + 1) * 2.0 ** -53
    u2 = ((reference_splitmix64(seed ^ reference_splitmix64(2 * index + 1)) >> 11) + 1) * 2.0 ** -53
    assert uniform(seed, np.array([2 * index], dtype=np.uint64))[0] == u1
    expected = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    assert gaussian(seed, np.array([index], dtype=np.uint64))[0] == expected


def test_uniform_is_in_half_open_unit_interval():
    values = uniform(3, np.arange(10000, dtype=np.uint64))
    assert values.min() > 0.0 and values.max() <= 1.0


def test_trajectory_noise_layout_and_statistics():
    seed, frames, dim = 99, 3, 16
    eps = trajectory_noise(seed, frames, dim)
    assert eps.shape == (frames, 4, dim) and eps.dtype == np.float32
    f, j, c = 2, 3, 5  # slot j is 1-based in the formula
    index = ((f * 4) + (j - 1)) * dim + c
    assert eps[f, j - 1, c] == np.float32(gaussian(seed, np.array([index], dtype=np.uint64))[0])
    many = trajectory_noise(1, 6, 4096).ravel()
    assert abs(float(many.mean())) < 0.02 and abs(float(many.std()) - 1.0) < 0.02
    assert not np.array_equal(trajectory_noise(1, 1, 8), trajectory_noise(2, 1, 8))


def test_seed_with_top_bit_set_is_accepted():
    eps = trajectory_noise(MASK64, 1, 4)
    assert np.all(np.isfinite(eps))
