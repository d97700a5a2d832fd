// The decoder's Gaussian noise, defined bit-exactly by docs/model-contract.md ("Noise") so that
// every engine and the PyTorch reference draw the same eps from the same 64-bit seed.
// Header-only and free of host-only calls so a CUDA backend can use it in device code.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define SCTDIFF_HOST_DEVICE __host__ __device__
#else
#define SCTDIFF_HOST_DEVICE
#endif

namespace sctdiff {

SCTDIFF_HOST_DEVICE inline uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in (0, 1]: never 0, so the log in the Box–Muller transform stays finite.
SCTDIFF_HOST_DEVICE inline double noise_uniform(uint64_t seed, uint64_t n) {
  return static_cast<double>((splitmix64(seed ^ splitmix64(n)) >> 11) + 1) * 0x1.0p-53;
}

SCTDIFF_HOST_DEVICE inline double noise_gaussian(uint64_t seed, uint64_t i) {
  const double kTwoPi = 6.283185307179586476925286766559;
  return sqrt(-2.0 * log(noise_uniform(seed, 2 * i))) * cos(kTwoPi * noise_uniform(seed, 2 * i + 1));
}

// eps for frame `frame` (0-based in the window), coordinate slot `slot` (1..4), channel `c` of
// a decoder of width `dim`.
SCTDIFF_HOST_DEVICE inline float trajectory_noise(uint64_t seed, int frame, int slot, int c, int dim) {
  const uint64_t index = (static_cast<uint64_t>(frame) * 4 + static_cast<uint64_t>(slot - 1)) *
                             static_cast<uint64_t>(dim) + static_cast<uint64_t>(c);
  return static_cast<float>(noise_gaussian(seed, index));
}

}  // namespace sctdiff
