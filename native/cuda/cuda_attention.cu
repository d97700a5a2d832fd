// Fused multi-head self-attention for the one-stream encoder, flash style: a block owns 64
// queries of one (sequence, head); it streams K and V through shared memory in tiles and keeps
// a running max and sum per query (online softmax), so the [seq, seq] score matrix never
// reaches device memory. One thread owns one query row (q and the output accumulator in
// registers, head_dim a compile-time constant).
//
// This is the simple, verifiable first version on CUDA cores in fp32. The tensor-core version
// (mma.sync / wgmma on bf16 tiles) is the GPU session's job; see native/cuda/NOTES.md.
#include <cuda_runtime.h>

#include <cfloat>

#include "cuda_error.h"
#include "cuda_kernels.h"
#include "cuda_launch.h"

namespace sctdiff::cuda {
namespace {

constexpr int kQueriesPerBlock = 64;

template <int HD>
__host__ __device__ constexpr int key_tile() {
  return HD >= 128 ? 32 : 64;  // K, V and the score tile must fit 48 KB of static shared memory
}

template <int HD>
__global__ void __launch_bounds__(kQueriesPerBlock) attention_kernel(AttentionParams p) {
  constexpr int kTile = key_tile<HD>();
  __shared__ float keys[kTile][HD];
  __shared__ float values[kTile][HD];
  __shared__ float scores[kTile][kQueriesPerBlock];  // [key][query]: a warp's lanes hit distinct banks
  const int b = blockIdx.z, h = blockIdx.y;
  const int query = blockIdx.x * kQueriesPerBlock + threadIdx.x;
  const bool valid = query < p.seq;
  const int64_t width = static_cast<int64_t>(p.heads) * HD, ld = 3 * width;
  const float* base = p.qkv + static_cast<int64_t>(b) * p.seq * ld;

  float q[HD], acc[HD];
#pragma unroll
  for (int d = 0; d < HD; ++d) {
    q[d] = valid ? base[query * ld + h * HD + d] : 0.0f;
    acc[d] = 0.0f;
  }
  float running_max = -FLT_MAX, running_sum = 0.0f;

  for (int key0 = 0; key0 < p.seq; key0 += kTile) {
    const int count = min(kTile, p.seq - key0);
    for (int i = threadIdx.x; i < count * HD; i += blockDim.x) {
      const int j = i / HD, d = i % HD;
      const float* row = base + (key0 + j) * ld + h * HD + d;
      keys[j][d] = row[width];
      values[j][d] = row[2 * width];
    }
    __syncthreads();
    if (valid) {
      float tile_max = -FLT_MAX;
      for (int j = 0; j < count; ++j) {
        float s = 0.0f;
#pragma unroll
        for (int d = 0; d < HD; ++d) s += q[d] * keys[j][d];
        s *= p.scale;
        scores[j][threadIdx.x] = s;
        tile_max = fmaxf(tile_max, s);
      }
      const float new_max = fmaxf(running_max, tile_max);
      const float correction = expf(running_max - new_max);
      running_sum *= correction;
#pragma unroll
      for (int d = 0; d < HD; ++d) acc[d] *= correction;
      for (int j = 0; j < count; ++j) {
        const float weight = expf(scores[j][threadIdx.x] - new_max);
        running_sum += weight;
#pragma unroll
        for (int d = 0; d < HD; ++d) acc[d] += weight * values[j][d];
      }
      running_max = new_max;
    }
    __syncthreads();
  }
  if (!valid) return;
  const float inv = 1.0f / running_sum;
  float* out = p.out + (static_cast<int64_t>(b) * p.seq + query) * width + h * HD;
#pragma unroll
  for (int d = 0; d < HD; ++d) out[d] = acc[d] * inv;
}

template <int HD>
void launch(const AttentionParams& p, cudaStream_t stream) {
  const dim3 grid((p.seq + kQueriesPerBlock - 1) / kQueriesPerBlock, p.heads, p.batch);
  attention_kernel<HD><<<grid, kQueriesPerBlock, 0, stream>>>(p);
  check_launch("attention_kernel");
}

}  // namespace

void launch_attention(const AttentionParams& p, cudaStream_t stream) {
  if (p.batch <= 0 || p.seq <= 0 || p.heads <= 0) return;
  switch (p.head_dim) {
    case 16: return launch<16>(p, stream);
    case 32: return launch<32>(p, stream);
    case 64: return launch<64>(p, stream);
    case 128: return launch<128>(p, stream);
    default:
      throw CudaError("Expected an attention head dimension of 16, 32, 64 or 128 for the CUDA backend but received " +
                      std::to_string(p.head_dim));
  }
}

}  // namespace sctdiff::cuda
