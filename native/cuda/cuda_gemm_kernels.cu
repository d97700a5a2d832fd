// GEMM helpers around cuBLASLt: the epilogues cuBLASLt cannot express exactly (erf GELU,
// SiLU, softplus, alpha != 1 with a bias, accumulate after an activation), the fp32 -> bf16
// conversion of activations and weights, and a plain fp32 GEMM on CUDA cores that implements the
// whole GemmParams contract (the reference for the cuBLASLt path, and the fallback).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "cuda_activations.cuh"
#include "cuda_kernels.h"
#include "cuda_launch.h"

namespace sctdiff::cuda {
namespace {

__device__ __forceinline__ int64_t layout_offset(const RowLayout& layout, int row) {
  return static_cast<int64_t>(row / layout.rows) * layout.batch_stride + static_cast<int64_t>(row % layout.rows) * layout.ld;
}

// beta == 0 never reads `out` (it may hold garbage, even NaN), like BLAS.
__global__ void gemm_epilogue_kernel(const float* src, RowLayout src_layout, const float* bias, float* out,
                                     RowLayout out_layout, int n, float alpha, float beta, Activation act,
                                     int64_t total) {
  const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= total) return;
  const int row = static_cast<int>(index / n), col = static_cast<int>(index % n);
  float v = src[layout_offset(src_layout, row) + col];
  if (bias != nullptr) v += bias[col];
  v = alpha * activate(v, act);
  float* target = out + layout_offset(out_layout, row) + col;
  *target = beta == 0.0f ? v : beta * *target + v;
}

__global__ void rows_to_bf16_kernel(const float* src, RowLayout layout, int k, __nv_bfloat16* dst, int64_t total) {
  const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= total) return;
  const int row = static_cast<int>(index / k), col = static_cast<int>(index % k);
  dst[index] = __float2bfloat16_rn(src[layout_offset(layout, row) + col]);
}

constexpr int kTile = 16;

// C tile (16 x 16) per block; A rows and W rows staged through shared memory 16 columns at a time.
__global__ void simt_gemm_kernel(GemmParams p) {
  __shared__ float a_tile[kTile][kTile + 1];
  __shared__ float w_tile[kTile][kTile + 1];
  const int b = blockIdx.z;
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * kTile + ty;
  const int col0 = blockIdx.x * kTile;
  const int col = col0 + tx;
  const int m = p.a_layout.rows;
  const float* a_row = p.a + static_cast<int64_t>(b) * p.a_layout.batch_stride + static_cast<int64_t>(row) * p.a_layout.ld;
  float acc = 0.0f;
  for (int k0 = 0; k0 < p.k; k0 += kTile) {
    a_tile[ty][tx] = row < m && k0 + tx < p.k ? a_row[k0 + tx] : 0.0f;
    w_tile[ty][tx] = col0 + ty < p.n && k0 + tx < p.k ? p.w[static_cast<int64_t>(col0 + ty) * p.ldw + k0 + tx] : 0.0f;
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kTile; ++kk) acc += a_tile[ty][kk] * w_tile[tx][kk];
    __syncthreads();
  }
  if (row >= m || col >= p.n) return;
  float v = acc;
  if (p.bias != nullptr) v += p.bias[col];
  v = p.alpha * activate(v, p.act);
  float* target = p.c + static_cast<int64_t>(b) * p.c_layout.batch_stride + static_cast<int64_t>(row) * p.c_layout.ld + col;
  *target = p.beta == 0.0f ? v : p.beta * *target + v;
}

}  // namespace

void launch_gemm_epilogue(const float* src, const RowLayout& src_layout, const float* bias, float* out,
                          const RowLayout& out_layout, int n, float alpha, float beta, Activation act,
                          cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(out_layout.total_rows()) * n;
  if (total <= 0) return;
  gemm_epilogue_kernel<<<blocks_for(total, 256), 256, 0, stream>>>(src, src_layout, bias, out, out_layout, n, alpha,
                                                                   beta, act, total);
  check_launch("gemm_epilogue_kernel");
}

void launch_rows_to_bf16(const float* src, const RowLayout& layout, int k, uint16_t* dst, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(layout.total_rows()) * k;
  if (total <= 0) return;
  rows_to_bf16_kernel<<<blocks_for(total, 256), 256, 0, stream>>>(src, layout, k, reinterpret_cast<__nv_bfloat16*>(dst),
                                                                  total);
  check_launch("rows_to_bf16_kernel");
}

void launch_simt_gemm(const GemmParams& p, cudaStream_t stream) {
  const int m = p.a_layout.rows, batch = p.a_layout.batch;
  if (m <= 0 || batch <= 0 || p.n <= 0) return;
  const dim3 block(kTile, kTile);
  const dim3 grid((p.n + kTile - 1) / kTile, (m + kTile - 1) / kTile, batch);
  simt_gemm_kernel<<<grid, block, 0, stream>>>(p);
  check_launch("simt_gemm_kernel");
}

}  // namespace sctdiff::cuda
