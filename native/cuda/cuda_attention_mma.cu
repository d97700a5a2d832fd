// Tensor-core attention (sm_80+): the same flash-style algorithm as cuda_attention.cu, with
// Q·Kᵀ and P·V on bf16 mma.sync.m16n8k16 and fp32 accumulation. A block of 4 warps owns 64
// queries of one (sequence, head); each warp owns 16 query rows. K and V stream through shared
// memory in tiles of 64 keys (bf16, rows padded by 8 elements against bank conflicts). Scores
// live in the log2 domain (Q pre-scaled by scale·log2 e) so exp2f is the only transcendental.
//
// Fragment layouts (PTX ISA, mma.m16n8k16 .bf16; g = lane/4, t = lane%4):
//   A (16x16, row-major): reg0 = (row g, cols 2t..2t+1), reg1 = (g+8, 2t..), reg2 = (g, 2t+8..),
//                         reg3 = (g+8, 2t+8..)
//   B (16x8, k-major):    reg0 = (k 2t..2t+1, col g), reg1 = (k 2t+8.., col g)
//   C (16x8 fp32):        c0,c1 = (row g, cols 2t, 2t+1), c2,c3 = (row g+8, same cols)
// The C fragments of S for key tiles 2j and 2j+1 are exactly the A fragment of P for keys
// 16j..16j+15, so P never leaves registers.
//
// Opt-in (SCTDIFF_CUDA_ATTENTION=mma) until the consistency program has passed on a GPU.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cfloat>
#include <cstdint>

#include "cuda_error.h"
#include "cuda_kernels.h"
#include "cuda_launch.h"

namespace sctdiff::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kQueries = 16 * kWarps;
constexpr int kKeys = 64;
constexpr float kLog2e = 1.4426950408889634f;

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

__device__ __forceinline__ uint32_t pack_bf16(__nv_bfloat16 lo, __nv_bfloat16 hi) {
  return static_cast<uint32_t>(__bfloat16_as_ushort(lo)) | (static_cast<uint32_t>(__bfloat16_as_ushort(hi)) << 16);
}

__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
  __trap();  // the host never launches this kernel below sm_80
#endif
}

template <int HD>
__global__ void __launch_bounds__(kWarps * 32) attention_mma_kernel(AttentionParams p) {
  constexpr int kStride = HD + 8;  // padded row (bf16 elements)
  constexpr int kSteps = HD / 16;  // k-steps of Q·Kᵀ
  constexpr int kDimTiles = HD / 8;
  __shared__ __nv_bfloat16 keys[kKeys][kStride];
  __shared__ __nv_bfloat16 values[kKeys][kStride];

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t = lane & 3;
  const int b = blockIdx.z, h = blockIdx.y;
  const int64_t width = static_cast<int64_t>(p.heads) * HD, ld = 3 * width;
  const float* base = p.qkv + static_cast<int64_t>(b) * p.seq * ld;
  const int row0 = blockIdx.x * kQueries + warp * 16 + g;  // this thread's rows: row0, row0 + 8
  const float q_scale = p.scale * kLog2e;

  // Q fragments straight from global memory.
  uint32_t q[kSteps][4];
#pragma unroll
  for (int s = 0; s < kSteps; ++s) {
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int row = row0 + ((r & 1) ? 8 : 0);
      const int col = s * 16 + 2 * t + ((r & 2) ? 8 : 0);
      float lo = 0.0f, hi = 0.0f;
      if (row < p.seq) {
        const float* src = base + row * ld + h * HD + col;
        lo = src[0] * q_scale;
        hi = src[1] * q_scale;
      }
      q[s][r] = pack_bf16(lo, hi);
    }
  }

  float out[kDimTiles][4];
#pragma unroll
  for (int d = 0; d < kDimTiles; ++d) out[d][0] = out[d][1] = out[d][2] = out[d][3] = 0.0f;
  float row_max[2] = {-FLT_MAX, -FLT_MAX}, row_sum[2] = {0.0f, 0.0f};

  for (int key0 = 0; key0 < p.seq; key0 += kKeys) {
    for (int i = threadIdx.x; i < kKeys * HD; i += blockDim.x) {
      const int j = i / HD, d = i % HD;
      float k = 0.0f, v = 0.0f;
      if (key0 + j < p.seq) {
        const float* src = base + (key0 + j) * ld + h * HD + d;
        k = src[width];
        v = src[2 * width];
      }
      keys[j][d] = __float2bfloat16_rn(k);
      values[j][d] = __float2bfloat16_rn(v);
    }
    __syncthreads();

    // S = Q·Kᵀ for 64 keys: 8 tiles of 8 keys.
    float s[kKeys / 8][4];
#pragma unroll
    for (int n = 0; n < kKeys / 8; ++n) {
      s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
      for (int k = 0; k < kSteps; ++k) {
        const __nv_bfloat16* key_row = &keys[n * 8 + g][k * 16 + 2 * t];
        const uint32_t b0 = *reinterpret_cast<const uint32_t*>(key_row);
        const uint32_t b1 = *reinterpret_cast<const uint32_t*>(key_row + 8);
        mma_bf16(s[n], q[k], b0, b1);
      }
      // Keys past the sequence end never win or count.
      const int key = key0 + n * 8 + 2 * t;
      if (key >= p.seq) s[n][0] = s[n][2] = -FLT_MAX;
      if (key + 1 >= p.seq) s[n][1] = s[n][3] = -FLT_MAX;
    }

    // Online softmax per row (the 4 threads of a group share a row).
    float tile_max[2] = {-FLT_MAX, -FLT_MAX};
#pragma unroll
    for (int n = 0; n < kKeys / 8; ++n) {
      tile_max[0] = fmaxf(tile_max[0], fmaxf(s[n][0], s[n][1]));
      tile_max[1] = fmaxf(tile_max[1], fmaxf(s[n][2], s[n][3]));
    }
    float correction[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 1));
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 2));
      const float new_max = fmaxf(row_max[r], tile_max[r]);
      correction[r] = exp2f(row_max[r] - new_max);
      row_max[r] = new_max;
      row_sum[r] *= correction[r];
    }
#pragma unroll
    for (int d = 0; d < kDimTiles; ++d) {
      out[d][0] *= correction[0];
      out[d][1] *= correction[0];
      out[d][2] *= correction[1];
      out[d][3] *= correction[1];
    }
#pragma unroll
    for (int n = 0; n < kKeys / 8; ++n) {
      s[n][0] = exp2f(s[n][0] - row_max[0]);
      s[n][1] = exp2f(s[n][1] - row_max[0]);
      s[n][2] = exp2f(s[n][2] - row_max[1]);
      s[n][3] = exp2f(s[n][3] - row_max[1]);
      row_sum[0] += s[n][0] + s[n][1];
      row_sum[1] += s[n][2] + s[n][3];
    }

    // O += P·V, 16 keys per k-step.
#pragma unroll
    for (int k = 0; k < kKeys / 16; ++k) {
      const uint32_t a[4] = {pack_bf16(s[2 * k][0], s[2 * k][1]), pack_bf16(s[2 * k][2], s[2 * k][3]),
                             pack_bf16(s[2 * k + 1][0], s[2 * k + 1][1]), pack_bf16(s[2 * k + 1][2], s[2 * k + 1][3])};
      const int key = k * 16 + 2 * t;
#pragma unroll
      for (int d = 0; d < kDimTiles; ++d) {
        const int dim = d * 8 + g;
        const uint32_t b0 = pack_bf16(values[key][dim], values[key + 1][dim]);
        const uint32_t b1 = pack_bf16(values[key + 8][dim], values[key + 9][dim]);
        mma_bf16(out[d], a, b0, b1);
      }
    }
    __syncthreads();
  }

#pragma unroll
  for (int r = 0; r < 2; ++r) {
    row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], 1);
    row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], 2);
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = row0 + 8 * r;
    if (row >= p.seq) continue;
    const float inv = 1.0f / row_sum[r];
    float* dst = p.out + (static_cast<int64_t>(b) * p.seq + row) * width + h * HD + 2 * t;
#pragma unroll
    for (int d = 0; d < kDimTiles; ++d) {
      dst[d * 8] = out[d][2 * r] * inv;
      dst[d * 8 + 1] = out[d][2 * r + 1] * inv;
    }
  }
}

template <int HD>
void launch(const AttentionParams& p, cudaStream_t stream) {
  const dim3 grid((p.seq + kQueries - 1) / kQueries, p.heads, p.batch);
  attention_mma_kernel<HD><<<grid, kWarps * 32, 0, stream>>>(p);
  check_launch("attention_mma_kernel");
}

}  // namespace

bool attention_mma_supported(int head_dim, int compute_major) {
  return compute_major >= 8 && (head_dim == 32 || head_dim == 64 || head_dim == 128);
}

void launch_attention_mma(const AttentionParams& p, cudaStream_t stream) {
  if (p.batch <= 0 || p.seq <= 0 || p.heads <= 0) return;
  switch (p.head_dim) {
    case 32: return launch<32>(p, stream);
    case 64: return launch<64>(p, stream);
    case 128: return launch<128>(p, stream);
    default:
      throw CudaError("Expected a head dimension of 32, 64 or 128 for the tensor-core attention but received " +
                      std::to_string(p.head_dim));
  }
}

}  // namespace sctdiff::cuda
