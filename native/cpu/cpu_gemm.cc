// GEMM of the CPU backend: tiles of the output spread over the backend's thread pool, each
// computed single-threaded by our AVX2/FMA kernel (gemm_avx2.cc) when the CPU has it, else by
// Eigen's blocked SSE kernel. Eigen is header-only, so it is a build-time dependency only; it
// is compiled without OpenMP and never starts threads of its own.
#include <Eigen/Core>
#include <algorithm>

#include "cpu_backend.h"
#include "fast_math.h"
#include "gemm_avx2.h"

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
  const int n_chunk = chunk_size(p.n, want_tasks, 32);  // whole 32-column panels of the kernels
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
    const float* a_ptr = p.a + p.a_layout.offset(b, m0);
    const float* w_ptr = p.w + static_cast<int64_t>(n0) * p.ldw;
    float* c_base = p.c + p.c_layout.offset(b, m0) + n0;
    const int64_t ldc = p.c_layout.ld;
    const bool plain = p.bias == nullptr && p.act == Activation::kNone;
    const bool avx2 = gemm_avx2_available();
    // out (+)= alpha · A·Wᵀ on this tile, with whichever kernel the CPU supports.
    auto product = [&](float* out, int64_t ld_out, bool accumulate, float alpha, float* pack) {
      if (avx2) {
        gemm_avx2(rows, cols, p.k, a_ptr, p.a_layout.ld, w_ptr, p.ldw, out, ld_out, accumulate, alpha, pack);
        return;
      }
      ConstMatrixMap a(a_ptr, rows, p.k, Eigen::OuterStride<>(p.a_layout.ld));
      ConstMatrixMap w(w_ptr, cols, p.k, Eigen::OuterStride<>(p.ldw));
      MatrixMap c(out, rows, cols, Eigen::OuterStride<>(ld_out));
      if (accumulate) {
        c.noalias() += alpha * (a * w.transpose());
      } else {
        c.noalias() = a * w.transpose();
        if (alpha != 1.0f) c *= alpha;
      }
    };
    const size_t pack_floats = avx2 ? static_cast<size_t>(gemm_avx2_pack_floats(p.k)) : 0;
    if (p.beta == 0.0f) {
      product(c_base, ldc, false, 1.0f, scratch(worker, pack_floats));
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
      product(c_base, ldc, true, p.alpha, scratch(worker, pack_floats));
      return;
    }
    const size_t tile_floats = static_cast<size_t>(rows) * cols;
    float* tile = scratch(worker, tile_floats + pack_floats);
    product(tile, cols, false, 1.0f, tile + tile_floats);
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
