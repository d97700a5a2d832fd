// Packed AVX2/FMA and AVX-512 GEMM kernels for CPUs that have them (picked at run time; the
// addon itself is built for the x86-64-v2 baseline, where Eigen's SSE kernel runs instead).
// Environment: SCTDIFF_CPU_BASELINE=1 forces the baseline, SCTDIFF_CPU_NO_AVX512=1 stops at AVX2.
#pragma once

#include <cstdint>

namespace sctdiff {

// True when this CPU supports AVX2 and FMA (and the kernels were compiled in). gemm_avx2 then
// uses the AVX-512 kernel where the CPU has AVX-512F.
bool gemm_avx2_available();

// C[rows, cols] = (accumulate ? C : 0) + alpha · A[rows, k] · W[cols, k]ᵀ, all row-major with
// leading dimensions lda, ldw, ldc. `pack` must hold gemm_avx2_pack_floats(k) floats.
void gemm_avx2(int rows, int cols, int k, const float* a, int64_t lda, const float* w, int64_t ldw, float* c,
               int64_t ldc, bool accumulate, float alpha, float* pack);

int64_t gemm_avx2_pack_floats(int k);

}  // namespace sctdiff
