#include "cuda_weight_allocator.h"

#include <cuda_runtime_api.h>

#include <algorithm>

#include "cuda_error.h"

namespace sctdiff::cuda {

// The CUDA runtime's current device is per thread, and the thread that loads or frees the
// weights may last have used another device: each call selects ours first.

void* CudaWeightAllocator::allocate(size_t bytes) {
  SCTDIFF_CUDA_CHECK(cudaSetDevice(device_));
  void* ptr = nullptr;
  // cudaMalloc aligns to at least 256 bytes, above the interface's 64.
  SCTDIFF_CUDA_CHECK(cudaMalloc(&ptr, std::max<size_t>(bytes, 1)));
  return ptr;
}

void CudaWeightAllocator::release(void* ptr) {
  if (ptr == nullptr) return;
  cudaSetDevice(device_);
  cudaFree(ptr);
}

void CudaWeightAllocator::upload(void* dst, const void* host_src, size_t bytes) {
  if (bytes == 0) return;
  SCTDIFF_CUDA_CHECK(cudaSetDevice(device_));
  SCTDIFF_CUDA_CHECK(cudaMemcpy(dst, host_src, bytes, cudaMemcpyHostToDevice));
  // From pageable memory cudaMemcpy may return before the DMA lands; the engines read the
  // weights on their own non-blocking streams, which do not order after the default stream.
  SCTDIFF_CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

void CudaWeightAllocator::download(void* host_dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  SCTDIFF_CUDA_CHECK(cudaSetDevice(device_));
  SCTDIFF_CUDA_CHECK(cudaMemcpy(host_dst, src, bytes, cudaMemcpyDeviceToHost));
}

}  // namespace sctdiff::cuda
