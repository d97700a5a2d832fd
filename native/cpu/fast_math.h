// Elementwise math written so that GCC/Clang auto-vectorize the loops that call it (no libm call
// inside, no branches). exp_approx is within about 2 ulp of expf over the range the network uses;
// the precise libm functions are used where an op is cheap and parity matters more than speed.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace sctdiff {

// exp(x) by range reduction x = n·ln2 + r, |r| <= ln2/2, and a degree-6 minimax polynomial
// (Cephes expf). Inputs below -87.3 give ~1e-38 instead of underflowing to 0, which is harmless
// where it is used (decay factors and softmax terms next to a term of 1).
inline float exp_approx(float x) {
  x = x < 88.3762626647949f ? x : 88.3762626647949f;
  x = x > -87.3365447505531f ? x : -87.3365447505531f;
  // Round to nearest by adding and subtracting 1.5·2^23 (exact for |v| < 2^22): unlike
  // std::floor this stays inline and vectorizes on every x86-64 level.
  const float kRoundMagic = 12582912.0f;
  const float n = (x * 1.44269504088896341f + kRoundMagic) - kRoundMagic;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

// The precise activations (libm), matching PyTorch's definitions.
inline float silu_precise(float x) { return x / (1.0f + std::exp(-x)); }
inline float gelu_precise(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752440f)); }
// torch.nn.functional.softplus with beta 1, threshold 20.
inline float softplus_precise(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

}  // namespace sctdiff
