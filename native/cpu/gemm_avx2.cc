// Register-blocked micro-kernels, B packed per column panel and per K block (16 KiB, stays in
// L1), A read in place with broadcasts:
//  - AVX-512: 12 rows x 32 columns, 24 zmm accumulators, K blocks of 128;
//  - AVX2+FMA: 6 rows x 16 columns, 12 ymm accumulators, K blocks of 256.
// Only functions marked target(...) contain AVX2/AVX-512 code, and they are only called after
// the CPU check, so the rest of the addon stays runnable on any x86-64-v2 CPU.
#include "gemm_avx2.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SCTDIFF_HAVE_AVX2_KERNEL 1
#endif

namespace sctdiff {
namespace {

constexpr int kRows = 6;
constexpr int kCols = 16;
constexpr int kDepth = 256;
constexpr int kRows512 = 12;
constexpr int kCols512 = 32;
constexpr int kDepth512 = 128;

}  // namespace

int64_t gemm_avx2_pack_floats(int k) {
  return std::max(static_cast<int64_t>(std::min(k, kDepth)) * kCols, static_cast<int64_t>(std::min(k, kDepth512)) * kCols512);
}

#if SCTDIFF_HAVE_AVX2_KERNEL

bool gemm_avx2_available() {
  // SCTDIFF_CPU_BASELINE=1 forces the baseline kernel (tests of both paths, comparisons).
  static const bool available = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                                std::getenv("SCTDIFF_CPU_BASELINE") == nullptr;
  return available;
}

static bool avx512_available() {
  static const bool available = __builtin_cpu_supports("avx512f") && std::getenv("SCTDIFF_CPU_BASELINE") == nullptr &&
                                std::getenv("SCTDIFF_CPU_NO_AVX512") == nullptr;
  return available;
}

namespace {

// Packs W[cols (<= width), k0 .. k0+depth) as [depth][width], zero-filling missing columns.
void pack_panel(const float* w, int64_t ldw, int cols, int k0, int depth, int width, float* pack) {
  for (int j = 0; j < width; ++j) {
    if (j < cols) {
      const float* src = w + j * ldw + k0;
      for (int kk = 0; kk < depth; ++kk) pack[kk * width + j] = src[kk];
    } else {
      for (int kk = 0; kk < depth; ++kk) pack[kk * width + j] = 0.0f;
    }
  }
}

// The AVX-512 counterpart of micro_kernel below: rows <= 12, cols <= 32.
__attribute__((target("avx512f"))) void micro_kernel_512(int depth, const float* a, int64_t lda, int rows, const float* pack,
                                                         float* c, int64_t ldc, int cols, bool add, float alpha) {
  __m512 acc[kRows512][2];
  for (int r = 0; r < kRows512; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  const float* rows_ptr[kRows512];
  for (int r = 0; r < kRows512; ++r) rows_ptr[r] = a + std::min(r, rows - 1) * lda;
  for (int kk = 0; kk < depth; ++kk) {
    const __m512 b0 = _mm512_loadu_ps(pack + kk * kCols512);
    const __m512 b1 = _mm512_loadu_ps(pack + kk * kCols512 + 16);
    for (int r = 0; r < kRows512; ++r) {
      const __m512 av = _mm512_set1_ps(rows_ptr[r][kk]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  const __m512 scale = _mm512_set1_ps(alpha);
  const __mmask16 mask0 = static_cast<__mmask16>(cols >= 16 ? 0xFFFF : (1u << cols) - 1);
  const __mmask16 mask1 = static_cast<__mmask16>(cols >= 32 ? 0xFFFF : cols > 16 ? (1u << (cols - 16)) - 1 : 0);
  for (int r = 0; r < rows; ++r) {
    float* out = c + r * ldc;
    __m512 v0 = _mm512_mul_ps(acc[r][0], scale), v1 = _mm512_mul_ps(acc[r][1], scale);
    if (add) {
      v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(mask0, out), v0);
      v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(mask1, out + 16), v1);
    }
    _mm512_mask_storeu_ps(out, mask0, v0);
    _mm512_mask_storeu_ps(out + 16, mask1, v1);
  }
}

// c_tile[r][0..16) (+)= alpha · sum_kk a[r][kk] · pack[kk][0..16) for r < rows (<= 6).
__attribute__((target("avx2,fma"))) void micro_kernel(int depth, const float* a, int64_t lda, int rows, const float* pack,
                                                      float* c, int64_t ldc, int cols, bool add, float alpha) {
  __m256 acc[kRows][2];
  for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  const float* rows_ptr[kRows];
  for (int r = 0; r < kRows; ++r) rows_ptr[r] = a + std::min(r, rows - 1) * lda;  // missing rows repeat the last
  for (int kk = 0; kk < depth; ++kk) {
    const __m256 b0 = _mm256_loadu_ps(pack + kk * kCols);
    const __m256 b1 = _mm256_loadu_ps(pack + kk * kCols + 8);
    for (int r = 0; r < kRows; ++r) {
      const __m256 av = _mm256_broadcast_ss(rows_ptr[r] + kk);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  const __m256 scale = _mm256_set1_ps(alpha);
  for (int r = 0; r < rows; ++r) {
    float* out = c + r * ldc;
    if (cols == kCols) {
      __m256 v0 = _mm256_mul_ps(acc[r][0], scale), v1 = _mm256_mul_ps(acc[r][1], scale);
      if (add) {
        v0 = _mm256_add_ps(_mm256_loadu_ps(out), v0);
        v1 = _mm256_add_ps(_mm256_loadu_ps(out + 8), v1);
      }
      _mm256_storeu_ps(out, v0);
      _mm256_storeu_ps(out + 8, v1);
    } else {
      alignas(32) float tile[kCols];
      _mm256_store_ps(tile, _mm256_mul_ps(acc[r][0], scale));
      _mm256_store_ps(tile + 8, _mm256_mul_ps(acc[r][1], scale));
      for (int j = 0; j < cols; ++j) out[j] = add ? out[j] + tile[j] : tile[j];
    }
  }
}

}  // namespace

void gemm_avx2(int rows, int cols, int k, const float* a, int64_t lda, const float* w, int64_t ldw, float* c,
               int64_t ldc, bool accumulate, float alpha, float* pack) {
  if (k <= 0) {
    if (!accumulate)
      for (int r = 0; r < rows; ++r) std::memset(c + r * ldc, 0, sizeof(float) * static_cast<size_t>(cols));
    return;
  }
  if (avx512_available()) {
    for (int j0 = 0; j0 < cols; j0 += kCols512) {
      const int panel = std::min(kCols512, cols - j0);
      for (int k0 = 0; k0 < k; k0 += kDepth512) {
        const int depth = std::min(kDepth512, k - k0);
        pack_panel(w + j0 * ldw, ldw, panel, k0, depth, kCols512, pack);
        const bool add = accumulate || k0 > 0;
        for (int r0 = 0; r0 < rows; r0 += kRows512) {
          micro_kernel_512(depth, a + r0 * lda + k0, lda, std::min(kRows512, rows - r0), pack, c + r0 * ldc + j0, ldc, panel,
                           add, alpha);
        }
      }
    }
    return;
  }
  for (int j0 = 0; j0 < cols; j0 += kCols) {
    const int panel = std::min(kCols, cols - j0);
    for (int k0 = 0; k0 < k; k0 += kDepth) {
      const int depth = std::min(kDepth, k - k0);
      pack_panel(w + j0 * ldw, ldw, panel, k0, depth, kCols, pack);
      const bool add = accumulate || k0 > 0;
      for (int r0 = 0; r0 < rows; r0 += kRows) {
        micro_kernel(depth, a + r0 * lda + k0, lda, std::min(kRows, rows - r0), pack, c + r0 * ldc + j0, ldc, panel, add,
                     alpha);
      }
    }
  }
}

#else

bool gemm_avx2_available() { return false; }
void gemm_avx2(int, int, int, const float*, int64_t, const float*, int64_t, float*, int64_t, bool, float, float*) {}

#endif

}  // namespace sctdiff
