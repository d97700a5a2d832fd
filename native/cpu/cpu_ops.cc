// Row-wise and small ops of the CPU backend: norms, attention, patch gathering, embeddings,
// top-1. Each op splits its rows over the thread pool when there is enough work to pay for it.
// Lets GCC if-convert and vectorize the softmax's clamped exp whatever the build flags.
#pragma GCC optimize("no-trapping-math")

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <vector>

#include "../engine/noise.h"
#include "cpu_backend.h"
#include "fast_math.h"

namespace sctdiff {
namespace {

using RowMajorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMatrixMap = Eigen::Map<const RowMajorMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;
using MatrixMap = Eigen::Map<RowMajorMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;

// Row `flat` (0-based over all groups) of a layout.
inline int64_t flat_offset(const RowLayout& layout, int flat) { return layout.offset(flat / layout.rows, flat % layout.rows); }

// Runs fn(group, row, flat row index) for every row of a layout, split over the pool when the
// op is big enough.
template <typename Fn>
void for_each_row(ThreadPool& pool, const RowLayout& layout, int dim, Fn&& fn) {
  const int total = layout.total_rows();
  const double work = static_cast<double>(total) * dim;
  const int tasks = work < 3.0e4 ? 1 : std::min(total, pool.size() * 2);
  const int per_task = (total + tasks - 1) / tasks;
  pool.parallel_for(tasks, [&](int task, int) {
    const int r1 = std::min(total, (task + 1) * per_task);
    for (int r = task * per_task; r < r1; ++r) fn(r / layout.rows, r % layout.rows, r);
  });
}

}  // namespace

void CpuBackend::layer_norm(const LayerNormParams& p) {
  const int dim = p.dim;
  for_each_row(pool_, p.x_layout, dim, [&](int b, int r, int flat) {
    const float* x = p.x + p.x_layout.offset(b, r);
    float* out = p.out + flat_offset(p.out_layout, flat);
    double sum = 0.0;
    for (int i = 0; i < dim; ++i) sum += x[i];
    const double mean = sum / dim;
    double sq = 0.0;
    for (int i = 0; i < dim; ++i) sq += (x[i] - mean) * (x[i] - mean);
    const float mean_f = static_cast<float>(mean);
    const float inv = static_cast<float>(1.0 / std::sqrt(sq / dim + p.eps));
    for (int i = 0; i < dim; ++i) out[i] = (x[i] - mean_f) * inv * p.weight[i] + p.bias[i];
  });
}

void CpuBackend::rms_norm(const RmsNormParams& p) {
  const int dim = p.dim;
  for_each_row(pool_, p.x_layout, dim, [&](int b, int r, int flat) {
    const float* x = p.x + p.x_layout.offset(b, r);
    float* out = p.out + flat_offset(p.out_layout, flat);
    double sq = 0.0;
    for (int i = 0; i < dim; ++i) sq += static_cast<double>(x[i]) * x[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(sq / dim + p.eps));
    for (int i = 0; i < dim; ++i) out[i] = x[i] * inv * p.weight[i];
  });
}

void CpuBackend::attention(const AttentionParams& p) {
  const int seq = p.seq, dh = p.head_dim;
  const int64_t width = static_cast<int64_t>(p.heads) * dh;
  const int64_t ld_qkv = 3 * width;
  // Query rows are split so that a few frames of a small model still fill the pool.
  const int groups = p.batch * p.heads;
  const int q_parts = std::max(1, std::min((pool_.size() * 2 + groups - 1) / groups, (seq + 31) / 32));
  const int q_chunk = chunk_size(seq, q_parts, 8);
  const int q_chunks = (seq + q_chunk - 1) / q_chunk;
  pool_.parallel_for(groups * q_chunks, [&](int task, int worker) {
    const int qc = task % q_chunks;
    const int h = (task / q_chunks) % p.heads;
    const int b = task / (q_chunks * p.heads);
    const int q0 = qc * q_chunk, q1 = std::min(seq, q0 + q_chunk);
    const int rows = q1 - q0;
    const float* base = p.qkv + static_cast<int64_t>(b) * seq * ld_qkv;
    ConstMatrixMap q(base + q0 * ld_qkv + h * dh, rows, dh, Eigen::OuterStride<>(ld_qkv));
    ConstMatrixMap k(base + width + h * dh, seq, dh, Eigen::OuterStride<>(ld_qkv));
    ConstMatrixMap v(base + 2 * width + h * dh, seq, dh, Eigen::OuterStride<>(ld_qkv));
    float* scores = scratch(worker, static_cast<size_t>(rows) * seq);
    MatrixMap s(scores, rows, seq, Eigen::OuterStride<>(seq));
    s.noalias() = q * k.transpose();
    for (int i = 0; i < rows; ++i) {
      float* row = scores + static_cast<int64_t>(i) * seq;
      float max_value = -INFINITY;
      for (int j = 0; j < seq; ++j) {
        row[j] *= p.scale;
        max_value = std::max(max_value, row[j]);
      }
      float sum = 0.0f;
      for (int j = 0; j < seq; ++j) {
        row[j] = exp_approx(row[j] - max_value);
        sum += row[j];
      }
      const float inv = 1.0f / sum;
      for (int j = 0; j < seq; ++j) row[j] *= inv;
    }
    MatrixMap out(p.out + (static_cast<int64_t>(b) * seq + q0) * width + h * dh, rows, dh, Eigen::OuterStride<>(width));
    out.noalias() = s * v;
  });
}

void CpuBackend::patchify(const PatchifyParams& p) {
  const int P = p.patch, C = p.channels;
  const int gh = p.height / P, gw = p.width / P;
  const int64_t image = static_cast<int64_t>(C) * p.height * p.width;
  const int64_t cols = static_cast<int64_t>(C) * P * P;
  RowLayout layout = RowLayout::contiguous(p.batch * gh * gw, cols);
  for_each_row(pool_, layout, static_cast<int>(cols), [&](int, int, int row) {
    const int b = row / (gh * gw), py = (row / gw) % gh, px = row % gw;
    const float* in = p.in + (p.batch_offsets != nullptr ? p.batch_offsets[b] : b * image);
    float* out = p.out + row * cols;
    if (p.channels_last) {
      for (int ky = 0; ky < P; ++ky) {
        const float* src = in + (static_cast<int64_t>(py * P + ky) * p.width + px * P) * C;
        std::copy(src, src + static_cast<int64_t>(P) * C, out + static_cast<int64_t>(ky) * P * C);
      }
    } else {
      for (int c = 0; c < C; ++c) {
        for (int ky = 0; ky < P; ++ky) {
          const float* src = in + (static_cast<int64_t>(c) * p.height + py * P + ky) * p.width + px * P;
          std::copy(src, src + P, out + (static_cast<int64_t>(c) * P + ky) * P);
        }
      }
    }
  });
}

void CpuBackend::add_rows(const AddRowsParams& p) {
  for_each_row(pool_, p.out_layout, p.dim, [&](int b, int r, int) {
    float* out = p.out + p.out_layout.offset(b, r);
    const float* t = p.table + r * p.table_ld;
    const int group = p.per_batch_period > 0 ? b % p.per_batch_period : b;
    const float* extra = p.per_batch != nullptr ? p.per_batch + group * p.per_batch_ld : nullptr;
    for (int i = 0; i < p.dim; ++i) {
      float v = p.overwrite ? t[i] : out[i] + t[i];
      if (extra != nullptr) v += extra[i];
      out[i] = v;
    }
  });
}

void CpuBackend::timestep_embed(const TimestepEmbedParams& p) {
  // float64 math, float32 result, like the reference's sinusoidal_embedding.
  const int half = p.dim / 2;
  const double kLogMaxPeriod = 9.210340371976184;  // ln(10000)
  for (int i = 0; i < p.count; ++i) {
    const double t = static_cast<double>(p.timesteps[i]);
    float* out = p.out + static_cast<int64_t>(i) * p.dim;
    for (int k = 0; k < half; ++k) {
      const double freq = std::exp(-kLogMaxPeriod * static_cast<double>(k) / static_cast<double>(half));
      const double arg = t * freq;
      out[k] = static_cast<float>(std::cos(arg));
      out[half + k] = static_cast<float>(std::sin(arg));
    }
  }
}

void CpuBackend::trajectory_input(const TrajectoryInputParams& p) {
  const int dim = p.dim;
  for (int g = 0; g < p.windows * p.frames; ++g) {
    const int w = g / p.frames, f = g % p.frames;  // frame f of window w
    const uint64_t seed = p.seeds[w];
    for (int slot = 0; slot < 6; ++slot) {
      const float* e = p.table + static_cast<int64_t>(p.tokens[g * 6 + slot]) * dim;
      float* out = p.out + p.out_layout.offset(g, slot);
      const float* pos = p.pos1d + static_cast<int64_t>(slot) * dim;
      const float* temporal = p.temporal + static_cast<int64_t>(f) * dim;
      const float* time = p.time_emb + static_cast<int64_t>(g) * dim;
      const bool noised = slot >= 1 && slot <= 4;
      for (int c = 0; c < dim; ++c) {
        float x = e[c];
        if (noised) x = p.signal[g] * x + p.noise[g] * trajectory_noise(seed, f, slot, c, dim);
        out[c] = x + pos[c] + temporal[c] + time[c];
      }
    }
  }
}

void CpuBackend::top1(const Top1Params& p) {
  for_each_row(pool_, p.layout, p.vocab, [&](int b, int r, int row) {
    const float* logits = p.logits + p.layout.offset(b, r);
    int best = 0;
    for (int i = 1; i < p.vocab; ++i) {
      if (logits[i] > logits[best]) best = i;
    }
    const float max_value = logits[best];
    double sum = 0.0;
    for (int i = 0; i < p.vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - max_value));
    p.tokens[row] = best;
    p.scores[row] = static_cast<float>(1.0 / sum);
  });
}

}  // namespace sctdiff
