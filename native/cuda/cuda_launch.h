// Small launch helpers: grid sizes and the post-launch check.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cuda_error.h"

namespace sctdiff::cuda {

inline unsigned int blocks_for(int64_t items, int threads) {
  return static_cast<unsigned int>((items + threads - 1) / threads);
}

// A rejected launch (bad configuration, no kernel image for this GPU) surfaces here; faults
// inside the kernel surface at the next synchronizing call.
inline void check_launch(const char* kernel) { check_cuda(cudaGetLastError(), kernel); }

}  // namespace sctdiff::cuda
