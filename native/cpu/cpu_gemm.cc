// GEMM of the CPU backend: Eigen's single-threaded blocked kernel on tiles of the output, the
// tiles spread over the backend's thread pool. Eigen is header-only, so it is a build-time
// dependency only; it is compiled without OpenMP and never starts threads of its own.
#include <Eigen/Core>
#include <algorithm>

#include "cpu_backend.h"
#include "fast_math.h"

namespace sctdiff {
namespace {

using RowMajorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMatrixMap = Eigen::Map<const RowMajorMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;
using MatrixMap = Eigen::Map<RowMajorMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;

inline float activate(float x, Activation act) {
  switch (act) {
    case Activation::kGelu: return gelu_precise(x);
    case Activation::kSilu: return silu_precise(x);
    case Activation::kSoftplus: return softplus_precise(x);
    case Activation::kNone: break;
  }
  return x;
}

}  // namespace

void CpuBackend::gemm(const GemmParams& p) {
  const int batch = p.a_layout.batch;
  const int m = p.a_layout.rows;
  if (batch <= 0 || m <= 0 || p.n <= 0) return;
  // Small products run inline: waking workers costs more than the work.
  const double work = static_cast<double>(batch) * m * p.n * std::max(p.k, 1);
  const int want_tasks = work < 1.0e5 ? 1 : pool_.size() * 2;
  const int n_chunk = chunk_size(p.n, want_tasks, 16);
  const int n_chunks = (p.n + n_chunk - 1) / n_chunk;
  const int m_parts = std::max(1, want_tasks / (n_chunks * batch));
  const int m_chunk = chunk_size(m, m_parts, 8);
  const int m_chunks = (m + m_chunk - 1) / m_chunk;
  const int tasks = batch * m_chunks * n_chunks;

  pool_.parallel_for(tasks, [&](int task, int worker) {
    const int nc = task % n_chunks;
    const int mc = (task / n_chunks) % m_chunks;
    const int b = task / (n_chunks * m_chunks);
    const int n0 = nc * n_chunk, n1 = std::min(p.n, n0 + n_chunk);
    const int m0 = mc * m_chunk, m1 = std::min(m, m0 + m_chunk);
    const int rows = m1 - m0, cols = n1 - n0;
    ConstMatrixMap a(p.a + p.a_layout.offset(b, m0), rows, p.k, Eigen::OuterStride<>(p.a_layout.ld));
    ConstMatrixMap w(p.w + static_cast<int64_t>(n0) * p.ldw, cols, p.k, Eigen::OuterStride<>(p.ldw));
    float* c_base = p.c + p.c_layout.offset(b, m0) + n0;
    const int64_t ldc = p.c_layout.ld;
    MatrixMap c(c_base, rows, cols, Eigen::OuterStride<>(ldc));
    const bool plain = p.bias == nullptr && p.act == Activation::kNone;
    if (p.beta == 0.0f) {
      c.noalias() = a * w.transpose();
      if (plain && p.alpha == 1.0f) return;
      for (int i = 0; i < rows; ++i) {
        float* row = c_base + i * ldc;
        for (int j = 0; j < cols; ++j) {
          const float v = p.bias != nullptr ? row[j] + p.bias[n0 + j] : row[j];
          row[j] = p.alpha * activate(v, p.act);
        }
      }
      return;
    }
    if (plain) {
      c.noalias() += p.alpha * (a * w.transpose());
      return;
    }
    float* tile = scratch(worker, static_cast<size_t>(rows) * cols);
    MatrixMap t(tile, rows, cols, Eigen::OuterStride<>(cols));
    t.noalias() = a * w.transpose();
    for (int i = 0; i < rows; ++i) {
      float* row = c_base + i * ldc;
      const float* trow = tile + static_cast<int64_t>(i) * cols;
      for (int j = 0; j < cols; ++j) {
        const float v = p.bias != nullptr ? trow[j] + p.bias[n0 + j] : trow[j];
        row[j] = p.beta * row[j] + p.alpha * activate(v, p.act);
      }
    }
  });
}

}  // namespace sctdiff
