// Row-wise and small ops: LayerNorm, RMSNorm, row-table adds, the timestep sinusoid, the
// decoder's trajectory input, patch gathering and top-1 over the vocabulary. Each matches the
// CPU backend's definition (native/cpu/cpu_ops.cc) operation for operation where it is cheap to
// do so (double-precision sinusoids and noise, two-pass norms).
#include <cuda_runtime.h>

#include <cfloat>

#include "../engine/noise.h"
#include "cuda_kernels.h"
#include "cuda_launch.h"
#include "cuda_reduce.cuh"

namespace sctdiff::cuda {
namespace {

constexpr int kRowThreads = 256;

// RowLayout::offset is host-only (backend.h is plain C++), so device code computes it here.
__device__ __forceinline__ int64_t layout_offset(const RowLayout& layout, int b, int r) {
  return static_cast<int64_t>(b) * layout.batch_stride + static_cast<int64_t>(r) * layout.ld;
}

__device__ __forceinline__ int64_t row_offset(const RowLayout& layout, int row) {
  return layout_offset(layout, row / layout.rows, row % layout.rows);
}

// One block per row. Two passes over x (mean, then squared deviations) like the CPU backend;
// each element is read and written by the same thread, so x == out is allowed.
__global__ void layer_norm_kernel(LayerNormParams p) {
  __shared__ float shared[32];
  const float* x = p.x + row_offset(p.x_layout, blockIdx.x);
  float* out = p.out + row_offset(p.out_layout, blockIdx.x);
  float sum = 0.0f;
  for (int i = threadIdx.x; i < p.dim; i += blockDim.x) sum += x[i];
  const float mean = block_sum(sum, shared) / static_cast<float>(p.dim);
  float sq = 0.0f;
  for (int i = threadIdx.x; i < p.dim; i += blockDim.x) {
    const float d = x[i] - mean;
    sq += d * d;
  }
  const float var = block_sum(sq, shared) / static_cast<float>(p.dim);
  const float inv = rsqrtf(var + p.eps);
  for (int i = threadIdx.x; i < p.dim; i += blockDim.x) out[i] = (x[i] - mean) * inv * p.weight[i] + p.bias[i];
}

__global__ void rms_norm_kernel(RmsNormParams p) {
  __shared__ float shared[32];
  const float* x = p.x + row_offset(p.x_layout, blockIdx.x);
  float* out = p.out + row_offset(p.out_layout, blockIdx.x);
  float sq = 0.0f;
  for (int i = threadIdx.x; i < p.dim; i += blockDim.x) sq += x[i] * x[i];
  const float inv = rsqrtf(block_sum(sq, shared) / static_cast<float>(p.dim) + p.eps);
  for (int i = threadIdx.x; i < p.dim; i += blockDim.x) out[i] = x[i] * inv * p.weight[i];
}

__global__ void add_rows_kernel(AddRowsParams p, int64_t total) {
  const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= total) return;
  const int row = static_cast<int>(index / p.dim), col = static_cast<int>(index % p.dim);
  const int b = row / p.out_layout.rows, r = row % p.out_layout.rows;
  float* out = p.out + layout_offset(p.out_layout, b, r) + col;
  float v = p.table[static_cast<int64_t>(r) * p.table_ld + col];
  if (!p.overwrite) v = *out + v;
  const int group = p.per_batch_period > 0 ? b % p.per_batch_period : b;
  if (p.per_batch != nullptr) v += p.per_batch[static_cast<int64_t>(group) * p.per_batch_ld + col];
  *out = v;
}

__global__ void timestep_embed_kernel(TimestepEmbedParams p) {
  const int half = p.dim / 2;
  const int index = blockIdx.x * blockDim.x + threadIdx.x;
  if (index >= p.count * half) return;
  const int i = index / half, k = index % half;
  const double kLogMaxPeriod = 9.210340371976184;  // ln(10000)
  const double freq = exp(-kLogMaxPeriod * static_cast<double>(k) / static_cast<double>(half));
  const double arg = static_cast<double>(p.timesteps[i]) * freq;
  float* out = p.out + static_cast<int64_t>(i) * p.dim;
  out[k] = static_cast<float>(cos(arg));
  out[half + k] = static_cast<float>(sin(arg));
}

__global__ void trajectory_input_kernel(TrajectoryInputParams p, const uint64_t* seeds_device) {
  const int index = blockIdx.x * blockDim.x + threadIdx.x;
  if (index >= p.windows * p.frames * 6 * p.dim) return;
  const int c = index % p.dim, slot = (index / p.dim) % 6, g = index / (6 * p.dim);
  const int f = g % p.frames;  // frame f of window g / frames, whose seed it is
  const uint64_t seed = seeds_device[g / p.frames];
  float x = p.table[static_cast<int64_t>(p.tokens[g * 6 + slot]) * p.dim + c];
  if (slot >= 1 && slot <= 4) x = p.signal[g] * x + p.noise[g] * trajectory_noise(seed, f, slot, c, p.dim);
  const float v = x + p.pos1d[static_cast<int64_t>(slot) * p.dim + c] + p.temporal[static_cast<int64_t>(f) * p.dim + c] +
                  p.time_emb[static_cast<int64_t>(g) * p.dim + c];
  p.out[layout_offset(p.out_layout, g, slot) + c] = v;
}

__global__ void patchify_kernel(PatchifyParams p, const float* const* images, int64_t total) {
  const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= total) return;
  const int P = p.patch, C = p.channels;
  const int gh = p.height / P, gw = p.width / P;
  const int64_t cols = static_cast<int64_t>(C) * P * P;
  const int64_t row = index / cols;
  const int col = static_cast<int>(index % cols);
  const int b = static_cast<int>(row / (gh * gw)), py = static_cast<int>((row / gw) % gh), px = static_cast<int>(row % gw);
  const int64_t image = static_cast<int64_t>(C) * p.height * p.width;
  const float* in = images != nullptr ? images[b] : p.in + b * image;
  float v;
  if (p.channels_last) {  // columns (ky, kx, c)
    const int c = col % C, kx = (col / C) % P, ky = col / (C * P);
    v = in[(static_cast<int64_t>(py * P + ky) * p.width + px * P + kx) * C + c];
  } else {  // columns (c, ky, kx)
    const int kx = col % P, ky = (col / P) % P, c = col / (P * P);
    v = in[(static_cast<int64_t>(c) * p.height + py * P + ky) * p.width + px * P + kx];
  }
  p.out[index] = v;
}

// Argmax across a warp (ties -> lowest index); every lane ends with the warp's winner.
__device__ __forceinline__ void warp_argmax(float& best, int& best_index) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float other = __shfl_xor_sync(0xffffffffu, best, offset);
    const int other_index = __shfl_xor_sync(0xffffffffu, best_index, offset);
    if (other > best || (other == best && other_index < best_index)) {
      best = other;
      best_index = other_index;
    }
  }
}

// One block per row: argmax (ties -> lowest index), then the softmax probability of the winner.
__global__ void top1_kernel(Top1Params p) {
  __shared__ float shared_value[32];
  __shared__ int shared_index[32];
  __shared__ float shared_sum[32];
  const int row = blockIdx.x;
  const float* logits = p.logits + row_offset(p.layout, row);
  float best = -FLT_MAX;
  int best_index = 0x7fffffff;
  for (int i = threadIdx.x; i < p.vocab; i += blockDim.x) {
    const float v = logits[i];
    if (v > best || (v == best && i < best_index)) {
      best = v;
      best_index = i;
    }
  }
  warp_argmax(best, best_index);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  if (lane == 0) {
    shared_value[warp] = best;
    shared_index[warp] = best_index;
  }
  __syncthreads();
  if (warp == 0) {
    best = lane < warps ? shared_value[lane] : -FLT_MAX;
    best_index = lane < warps ? shared_index[lane] : 0x7fffffff;
    warp_argmax(best, best_index);
    if (lane == 0) {
      shared_value[0] = best;
      shared_index[0] = best_index;
    }
  }
  __syncthreads();
  const float max_value = shared_value[0];
  const int winner = shared_index[0];
  float sum = 0.0f;
  for (int i = threadIdx.x; i < p.vocab; i += blockDim.x) sum += expf(logits[i] - max_value);
  sum = block_sum(sum, shared_sum);
  if (threadIdx.x == 0) {
    p.tokens[row] = winner;
    p.scores[row] = 1.0f / sum;
  }
}

}  // namespace

void launch_layer_norm(const LayerNormParams& p, cudaStream_t stream) {
  const int rows = p.x_layout.total_rows();
  if (rows <= 0 || p.dim <= 0) return;
  layer_norm_kernel<<<rows, kRowThreads, 0, stream>>>(p);
  check_launch("layer_norm_kernel");
}

void launch_rms_norm(const RmsNormParams& p, cudaStream_t stream) {
  const int rows = p.x_layout.total_rows();
  if (rows <= 0 || p.dim <= 0) return;
  rms_norm_kernel<<<rows, kRowThreads, 0, stream>>>(p);
  check_launch("rms_norm_kernel");
}

void launch_add_rows(const AddRowsParams& p, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(p.out_layout.total_rows()) * p.dim;
  if (total <= 0) return;
  add_rows_kernel<<<blocks_for(total, 256), 256, 0, stream>>>(p, total);
  check_launch("add_rows_kernel");
}

void launch_timestep_embed(const TimestepEmbedParams& p, cudaStream_t stream) {
  const int total = p.count * (p.dim / 2);
  if (total <= 0) return;
  timestep_embed_kernel<<<blocks_for(total, 128), 128, 0, stream>>>(p);
  check_launch("timestep_embed_kernel");
}

void launch_trajectory_input(const TrajectoryInputParams& p, const uint64_t* seeds, cudaStream_t stream) {
  const int total = p.windows * p.frames * 6 * p.dim;
  if (total <= 0) return;
  trajectory_input_kernel<<<blocks_for(total, 128), 128, 0, stream>>>(p, seeds);
  check_launch("trajectory_input_kernel");
}

void launch_patchify(const PatchifyParams& p, const float* const* images, cudaStream_t stream) {
  const int gh = p.height / p.patch, gw = p.width / p.patch;
  const int64_t total = static_cast<int64_t>(p.batch) * gh * gw * p.channels * p.patch * p.patch;
  if (total <= 0) return;
  patchify_kernel<<<blocks_for(total, 256), 256, 0, stream>>>(p, images, total);
  check_launch("patchify_kernel");
}

void launch_top1(const Top1Params& p, cudaStream_t stream) {
  const int rows = p.layout.total_rows();
  if (rows <= 0 || p.vocab <= 0) return;
  top1_kernel<<<rows, 256, 0, stream>>>(p);
  check_launch("top1_kernel");
}

}  // namespace sctdiff::cuda
