// The GEMM activations in device code, with PyTorch's exact definitions (erf GELU, softplus
// with threshold 20), like the CPU backend's *_precise functions.
#pragma once

#include <cuda_runtime.h>

#include "../engine/backend.h"

namespace sctdiff::cuda {

__device__ __forceinline__ float silu(float x) { return x / (1.0f + expf(-x)); }

__device__ __forceinline__ float activate(float x, Activation act) {
  switch (act) {
    case Activation::kGelu: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752440f));
    case Activation::kSilu: return silu(x);
    case Activation::kSoftplus: return x > 20.0f ? x : log1pf(expf(x));
    case Activation::kNone: break;
  }
  return x;
}

}  // namespace sctdiff::cuda
