// The sequence ops of the bidirectional Mamba on the CPU: causal depthwise conv1d + SiLU and the
// selective scan. Both are independent per channel and per sequence (a batch of streams'
// windows), so (sequence, channel chunk) pairs are split over the pool and the innermost loops
// run over contiguous channels (auto-vectorized).
// Let GCC if-convert and vectorize the clamped exp in the scan whatever the build flags (no FP
// exception flags are ever read).
#pragma GCC optimize("no-trapping-math")

#include <algorithm>
#include <vector>

#include "cpu_backend.h"
#include "fast_math.h"

namespace sctdiff {
namespace {

constexpr int kChannelChunk = 64;

// Runs body(sequence, e0, e1, worker) for every sequence over channels [e0, e1): the whole
// channel range when `split` is false (small ops: handing chunks to workers costs more than
// the work), else chunks of kChannelChunk channels, all (sequence, chunk) pairs on the pool.
template <typename Body>
void for_each_sequence_chunk(ThreadPool& pool, int sequences, int channels, bool split, const Body& body) {
  const int chunks = split ? (channels + kChannelChunk - 1) / kChannelChunk : 1;
  pool.parallel_for(sequences * chunks, [&](int task, int worker) {
    const int chunk = task % chunks;
    const int e0 = split ? chunk * kChannelChunk : 0;
    const int e1 = split ? std::min(channels, e0 + kChannelChunk) : channels;
    body(task / chunks, e0, e1, worker);
  });
}

// Sequence `s` of a batched conv as a single-sequence one: its pointers moved to its first row.
CausalConv1dParams conv_sequence(const CausalConv1dParams& p, int s) {
  CausalConv1dParams one = p;
  const int64_t row = static_cast<int64_t>(s) * p.sequence_stride;
  one.x = p.x + row * p.ldx;
  one.out = p.out + row * p.ldout;
  one.sequences = 1;
  return one;
}

// Sequence `s` of a batched scan as a single-sequence one.
SelectiveScanParams scan_sequence(const SelectiveScanParams& p, int s) {
  SelectiveScanParams one = p;
  const int64_t row = static_cast<int64_t>(s) * p.sequence_stride;
  one.u = p.u + row * p.ldu;
  one.delta = p.delta + row * p.ld_delta;
  one.b = p.b + row * p.ld_bc;
  one.c = p.c + row * p.ld_bc;
  one.z = p.z + row * p.ldz;
  one.out = p.out + row * p.ldout;
  one.sequences = 1;
  return one;
}

}  // namespace

void CpuBackend::causal_conv1d_silu(const CausalConv1dParams& batched) {
  const int L = batched.seq, E = batched.channels, K = batched.width;
  const int sequences = std::max(1, batched.sequences);
  const double work = static_cast<double>(L) * E * K * sequences;
  for_each_sequence_chunk(pool_, sequences, E, work >= 3.0e4, [&](int sequence, int e0, int e1, int worker) {
    const CausalConv1dParams p = conv_sequence(batched, sequence);
    const int width = e1 - e0;
    // Weights transposed to [K][channels] so the inner loop is contiguous.
    float* wt = scratch(worker, static_cast<size_t>(K) * width);
    for (int e = e0; e < e1; ++e) {
      for (int k = 0; k < K; ++k) wt[k * width + (e - e0)] = p.weight[static_cast<int64_t>(e) * K + k];
    }
    for (int pos = 0; pos < L; ++pos) {
      float* out = p.out + static_cast<int64_t>(pos) * p.ldout + e0;
      for (int e = 0; e < width; ++e) out[e] = p.bias[e0 + e];
      // Tap k multiplies the input k - (K-1) steps along the scan direction.
      for (int k = 0; k < K; ++k) {
        const int src = p.reverse ? pos + (K - 1) - k : pos - (K - 1) + k;
        if (src < 0 || src >= L) continue;
        const float* x = p.x + static_cast<int64_t>(src) * p.ldx + e0;
        const float* w = wt + k * width;
        for (int e = 0; e < width; ++e) out[e] += w[e] * x[e];
      }
      for (int e = 0; e < width; ++e) out[e] = silu_precise(out[e]);
    }
  });
}

namespace {

// Channels [e0, e1) of a selective scan. Compiled twice (AVX2 and the x86-64 baseline) and
// picked at load time by the CPU's features (GCC function multiversioning); both round
// identically because -ffp-contract=off keeps FMA out. `scratch` holds 2·N·width + width floats.
__attribute__((target_clones("arch=x86-64-v3", "default")))
void scan_channels(const SelectiveScanParams& p, int e0, int e1, float* scratch) {
  const int L = p.seq, N = p.state, width = e1 - e0;
  float* at = scratch;  // A transposed [N][width]
  float* h = at + static_cast<size_t>(N) * width;  // state [N][width]
  float* y = h + static_cast<size_t>(N) * width;   // [width]
  for (int e = e0; e < e1; ++e) {
    for (int n = 0; n < N; ++n) at[n * width + (e - e0)] = p.a[static_cast<int64_t>(e) * N + n];
  }
  std::fill(h, h + static_cast<size_t>(N) * width, 0.0f);
  for (int step = 0; step < L; ++step) {
    const int pos = p.reverse ? L - 1 - step : step;
    const float* __restrict u = p.u + static_cast<int64_t>(pos) * p.ldu + e0;
    const float* __restrict delta = p.delta + static_cast<int64_t>(pos) * p.ld_delta + e0;
    const float* B = p.b + static_cast<int64_t>(pos) * p.ld_bc;
    const float* C = p.c + static_cast<int64_t>(pos) * p.ld_bc;
    std::fill(y, y + width, 0.0f);
    for (int n = 0; n < N; ++n) {
      const float bn = B[n], cn = C[n];
      float* __restrict hn = h + n * width;
      const float* __restrict an = at + n * width;
      float* __restrict yy = y;
      for (int e = 0; e < width; ++e) {
        hn[e] = exp_approx(delta[e] * an[e]) * hn[e] + delta[e] * bn * u[e];
        yy[e] += hn[e] * cn;
      }
    }
    const float* z = p.z + static_cast<int64_t>(pos) * p.ldz + e0;
    float* out = p.out + static_cast<int64_t>(pos) * p.ldout + e0;
    const float* D = p.d + e0;
    for (int e = 0; e < width; ++e) {
      const float v = (y[e] + D[e] * u[e]) * silu_precise(z[e]);
      out[e] = p.accumulate ? out[e] + v : v;
    }
  }
}

}  // namespace

void CpuBackend::selective_scan(const SelectiveScanParams& batched) {
  const int L = batched.seq, E = batched.channels, N = batched.state;
  const int sequences = std::max(1, batched.sequences);
  const double work = static_cast<double>(L) * E * N * sequences;
  for_each_sequence_chunk(pool_, sequences, E, work >= 2.0e4, [&](int sequence, int e0, int e1, int worker) {
    const SelectiveScanParams p = scan_sequence(batched, sequence);
    scan_channels(p, e0, e1, scratch(worker, static_cast<size_t>(2 * N + 1) * (e1 - e0)));
  });
}

}  // namespace sctdiff
