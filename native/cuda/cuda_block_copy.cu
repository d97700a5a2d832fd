// Block copies with their addresses in device memory (BlockCopyParams, backend.h): the batch
// engine's template gather and feature scatter as one launch whose graph node stays the same
// when the blocks move. Grid: x over the elements of a block, y over the blocks.
#include <cuda_runtime.h>

#include "cuda_kernels.h"
#include "cuda_launch.h"

namespace sctdiff::cuda {
namespace {

constexpr int kCopyThreads = 256;
// Grid x is capped so that a large block is walked by a grid-stride loop instead of a huge grid.
constexpr int64_t kMaxCopyBlocksX = 256;

// `Vector` is float4 when every address is 16-byte aligned and blocks are a multiple of 4
// floats (the host checks), else float; `count` is then in units of Vector.
template <typename Vector>
__global__ void block_copy_kernel(const float* const* sources, float* const* destinations, int64_t count) {
  const Vector* src = reinterpret_cast<const Vector*>(sources[blockIdx.y]);
  Vector* dst = reinterpret_cast<Vector*>(destinations[blockIdx.y]);
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dst[i] = src[i];
  }
}

}  // namespace

void launch_block_copy(int count, int64_t elements, bool vectorized, const float* const* addresses, cudaStream_t stream) {
  if (count <= 0 || elements <= 0) return;
  const float* const* sources = addresses;
  float* const* destinations = const_cast<float* const*>(addresses + count);
  const int64_t items = vectorized ? elements / 4 : elements;
  const int64_t wanted = (items + kCopyThreads - 1) / kCopyThreads;
  const dim3 grid(static_cast<unsigned int>(wanted < kMaxCopyBlocksX ? wanted : kMaxCopyBlocksX),
                  static_cast<unsigned int>(count));
  if (vectorized) {
    block_copy_kernel<float4><<<grid, kCopyThreads, 0, stream>>>(sources, destinations, items);
  } else {
    block_copy_kernel<float><<<grid, kCopyThreads, 0, stream>>>(sources, destinations, items);
  }
  check_launch("block_copy_kernel");
}

}  // namespace sctdiff::cuda
