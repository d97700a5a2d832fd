// The bidirectional Mamba's sequence ops: causal depthwise conv1d + SiLU, and the selective scan.
//
// Scan layout (the design of docs/reference gpu-baseline.md's last section): one thread per
// (channel, state). A group of G = next_pow2(state) consecutive lanes holds one channel's
// states, so a warp holds 32/G channels; every thread runs its state's recurrence sequentially
// along the sequence, and y_l = C_l · h_l is a shuffle reduction inside the group. The decoder's
// E = 1024 channels (B256) x 16 states give 16384 threads, enough to fill an H100 with one
// launch, where the public kernel (one block per channel, a loop over states) is latency bound.
// The direction is an index map (reverse reads position L-1-step) so no reversed copies exist.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "cuda_activations.cuh"
#include "cuda_error.h"
#include "cuda_kernels.h"
#include "cuda_launch.h"

namespace sctdiff::cuda {
namespace {

// SCTDIFF_CUDA_SCAN=sequential turns chunking off (to tell the two scans apart on a GPU).
bool scan_chunking_enabled() {
  static const bool enabled = [] {
    const char* value = std::getenv("SCTDIFF_CUDA_SCAN");
    return value == nullptr || std::string(value) != "sequential";
  }();
  return enabled;
}

// Batched sequences (a batch of streams' decoder windows): sequence s starts at row
// s·sequence_stride of every row-indexed operand; each is scanned as if it were alone.
__device__ __forceinline__ SelectiveScanParams scan_sequence(SelectiveScanParams p, int s) {
  const int64_t row = static_cast<int64_t>(s) * p.sequence_stride;
  p.u += row * p.ldu;
  p.delta += row * p.ld_delta;
  p.b += row * p.ld_bc;
  p.c += row * p.ld_bc;
  p.z += row * p.ldz;
  p.out += row * p.ldout;
  return p;
}

// One thread per (sequence, position, channel).
__global__ void causal_conv1d_silu_kernel(CausalConv1dParams p) {
  const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t per_sequence = static_cast<int64_t>(p.seq) * p.channels;
  if (index >= per_sequence * p.sequences) return;
  const int64_t sequence = index / per_sequence;
  const int64_t row0 = sequence * p.sequence_stride;
  p.x += row0 * p.ldx;
  p.out += row0 * p.ldout;
  const int64_t local = index % per_sequence;
  const int e = static_cast<int>(local % p.channels), pos = static_cast<int>(local / p.channels);
  const int K = p.width;
  float v = p.bias[e];
  // Tap k multiplies the input k - (K-1) steps along the scan direction (CPU order of sums).
  for (int k = 0; k < K; ++k) {
    const int src = p.reverse ? pos + (K - 1) - k : pos - (K - 1) + k;
    if (src < 0 || src >= p.seq) continue;
    v += p.weight[static_cast<int64_t>(e) * K + k] * p.x[static_cast<int64_t>(src) * p.ldx + e];
  }
  p.out[static_cast<int64_t>(pos) * p.ldout + e] = silu(v);
}

template <int G>
__global__ void selective_scan_kernel(SelectiveScanParams batched) {
  const SelectiveScanParams p = scan_sequence(batched, blockIdx.y);  // grid.y = sequences
  const int thread = blockIdx.x * blockDim.x + threadIdx.x;
  const int n = thread % G;
  const int channel = thread / G;
  // Groups past the last channel still run the loop: their lanes take part in the shuffles.
  const bool active = channel < p.channels;
  const int e = active ? channel : p.channels - 1;
  const bool has_state = n < p.state;
  const float a = has_state ? p.a[static_cast<int64_t>(e) * p.state + n] : 0.0f;
  const float d = p.d[e];
  float h = 0.0f;
  for (int step = 0; step < p.seq; ++step) {
    const int64_t pos = p.reverse ? p.seq - 1 - step : step;
    const float u = p.u[pos * p.ldu + e];
    const float dt = p.delta[pos * p.ld_delta + e];
    const float b = has_state ? p.b[pos * p.ld_bc + n] : 0.0f;
    const float c = has_state ? p.c[pos * p.ld_bc + n] : 0.0f;
    h = expf(dt * a) * h + dt * b * u;
    float y = h * c;
#pragma unroll
    for (int offset = G / 2; offset > 0; offset >>= 1) y += __shfl_xor_sync(0xffffffffu, y, offset, G);
    if (n == 0 && active) {
      const float v = (y + d * u) * silu(p.z[pos * p.ldz + e]);
      float* out = p.out + pos * p.ldout + e;
      *out = p.accumulate ? *out + v : v;
    }
  }
}

// The same recurrence chunked along the sequence, for long sequences: a block owns one channel,
// thread (chunk c, state n) scans steps [c·T, (c+1)·T). Pass 1 scans each chunk from h = 0 and
// keeps its end state and the product of its decays; after a barrier each chunk folds the
// earlier chunks' (decay, end) pairs into its carried-in state; pass 2 rescans the chunk from
// that state and produces y. Twice the arithmetic, `chunks` times shorter dependency chains.
// Every lane runs the same trip count (padding steps are no-ops) so the shuffles never diverge.
template <int G>
__global__ void selective_scan_chunked_kernel(SelectiveScanParams batched, int chunks, int chunk_len) {
  extern __shared__ float carried[];  // [chunks][G] decay products, then [chunks][G] end states
  const SelectiveScanParams p = scan_sequence(batched, blockIdx.y);  // grid.y = sequences
  const int e = blockIdx.x;
  const int chunk = threadIdx.x / G, n = threadIdx.x % G;
  const bool real_chunk = chunk < chunks;
  const bool has_state = n < p.state;
  const float a = has_state ? p.a[static_cast<int64_t>(e) * p.state + n] : 0.0f;
  const float d = p.d[e];
  const int first = chunk * chunk_len;

  float h = 0.0f, decay = 1.0f;
  for (int i = 0; i < chunk_len; ++i) {
    const int step = first + i;
    if (!real_chunk || step >= p.seq) continue;  // no shuffles in this pass
    const int64_t pos = p.reverse ? p.seq - 1 - step : step;
    const float u = p.u[pos * p.ldu + e];
    const float dt = p.delta[pos * p.ld_delta + e];
    const float b = has_state ? p.b[pos * p.ld_bc + n] : 0.0f;
    const float decay_step = expf(dt * a);
    h = decay_step * h + dt * b * u;
    decay *= decay_step;
  }
  if (real_chunk) {
    carried[chunk * G + n] = decay;
    carried[(chunks + chunk) * G + n] = h;
  }
  __syncthreads();
  h = 0.0f;
  for (int j = 0; j < chunk && j < chunks; ++j) h = carried[j * G + n] * h + carried[(chunks + j) * G + n];

  for (int i = 0; i < chunk_len; ++i) {
    const int step = first + i;
    const bool valid = real_chunk && step < p.seq;
    const int64_t pos = valid ? (p.reverse ? p.seq - 1 - step : step) : 0;
    const float u = valid ? p.u[pos * p.ldu + e] : 0.0f;
    const float dt = valid ? p.delta[pos * p.ld_delta + e] : 0.0f;
    const float b = valid && has_state ? p.b[pos * p.ld_bc + n] : 0.0f;
    const float c = valid && has_state ? p.c[pos * p.ld_bc + n] : 0.0f;
    h = expf(dt * a) * h + dt * b * u;
    float y = h * c;
#pragma unroll
    for (int offset = G / 2; offset > 0; offset >>= 1) y += __shfl_xor_sync(0xffffffffu, y, offset, G);
    if (n == 0 && valid) {
      const float v = (y + d * u) * silu(p.z[pos * p.ldz + e]);
      float* out = p.out + pos * p.ldout + e;
      *out = p.accumulate ? *out + v : v;
    }
  }
}

// Sequences at least this long are chunked (about 32+ steps per chunk, at most 8 chunks).
constexpr int kChunkedScanMinSeq = 64;
constexpr int kMaxScanChunks = 8;

template <int G>
void launch_scan(const SelectiveScanParams& p, cudaStream_t stream) {
  if (p.seq >= kChunkedScanMinSeq && scan_chunking_enabled()) {
    const int chunks = std::min(kMaxScanChunks, p.seq / 32);
    const int chunk_len = (p.seq + chunks - 1) / chunks;
    const int threads = (chunks * G + 31) / 32 * 32;
    const size_t shared = 2 * static_cast<size_t>(chunks) * G * sizeof(float);
    const dim3 grid(static_cast<unsigned>(p.channels), static_cast<unsigned>(p.sequences));
    selective_scan_chunked_kernel<G><<<grid, threads, shared, stream>>>(p, chunks, chunk_len);
    check_launch("selective_scan_chunked_kernel");
    return;
  }
  constexpr int kThreads = 128;
  const int64_t threads = static_cast<int64_t>(p.channels) * G;
  const dim3 grid(static_cast<unsigned>(blocks_for(threads, kThreads)), static_cast<unsigned>(p.sequences));
  selective_scan_kernel<G><<<grid, kThreads, 0, stream>>>(p);
  check_launch("selective_scan_kernel");
}

}  // namespace

void launch_causal_conv1d_silu(const CausalConv1dParams& p, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(p.seq) * p.channels * p.sequences;
  if (total <= 0) return;
  causal_conv1d_silu_kernel<<<blocks_for(total, 256), 256, 0, stream>>>(p);
  check_launch("causal_conv1d_silu_kernel");
}

void launch_selective_scan(const SelectiveScanParams& p, cudaStream_t stream) {
  if (p.seq <= 0 || p.channels <= 0 || p.sequences <= 0) return;
  if (p.sequences > 65535) throw CudaError("Expected at most 65535 scan sequences but received " + std::to_string(p.sequences));
  if (p.state <= 1) return launch_scan<1>(p, stream);
  if (p.state <= 2) return launch_scan<2>(p, stream);
  if (p.state <= 4) return launch_scan<4>(p, stream);
  if (p.state <= 8) return launch_scan<8>(p, stream);
  if (p.state <= 16) return launch_scan<16>(p, stream);
  if (p.state <= 32) return launch_scan<32>(p, stream);
  throw CudaError("Expected a Mamba state size of at most 32 for the CUDA backend but received " +
                  std::to_string(p.state));
}

}  // namespace sctdiff::cuda
