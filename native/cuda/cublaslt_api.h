// The slice of the cuBLASLt C API this backend uses, loaded at run time with dlopen so that the
// library compiles and links where cuBLAS is not installed (CI has nvcc and the CUDA runtime
// only). The types and enum values below are declared here from the public cuBLASLt API
// documentation (docs.nvidia.com/cuda/cublas, "cuBLASLt API"); they are part of NVIDIA's stable
// C ABI, so declaring them ourselves is safe across 12.x and 13.x. Only what we call is here.
#pragma once

#include <cuda_runtime_api.h>
#include <library_types.h>  // cudaDataType_t (CUDA runtime, not cuBLAS)

#include <cstddef>
#include <cstdint>
#include <string>

namespace sctdiff::cuda::lt {

using Status = int;  // cublasStatus_t
constexpr Status kStatusSuccess = 0;

using Handle = struct OpaqueContext*;              // cublasLtHandle_t
using MatmulDesc = struct OpaqueMatmulDesc*;       // cublasLtMatmulDesc_t
using MatrixLayout = struct OpaqueMatrixLayout*;   // cublasLtMatrixLayout_t
using Preference = struct OpaqueMatmulPreference*; // cublasLtMatmulPreference_t

struct MatmulAlgo {  // cublasLtMatmulAlgo_t
  uint64_t data[8];
};

struct HeuristicResult {  // cublasLtMatmulHeuristicResult_t
  MatmulAlgo algo;
  size_t workspace_size;
  Status state;
  float waves_count;
  int reserved[4];
};

// cublasComputeType_t
enum ComputeType : int { kCompute32F = 68, kCompute32FFastTF32 = 77 };
// cublasOperation_t
enum Operation : int32_t { kOpN = 0, kOpT = 1 };
// cublasLtMatmulDescAttributes_t
enum MatmulDescAttribute : int {
  kDescTransA = 3,
  kDescTransB = 4,
  kDescEpilogue = 7,
  kDescBiasPointer = 8,
  kDescBiasDataType = 26,
};
// cublasLtMatrixLayoutAttribute_t
enum LayoutAttribute : int { kLayoutBatchCount = 5, kLayoutStridedBatchOffset = 6 };
// cublasLtMatmulPreferenceAttributes_t
enum PreferenceAttribute : int {
  kPrefMaxWorkspaceBytes = 1,
  kPrefMinAlignmentA = 5,
  kPrefMinAlignmentB = 6,
  kPrefMinAlignmentC = 7,
  kPrefMinAlignmentD = 8,
};
// cublasLtEpilogue_t (uint32_t)
enum Epilogue : uint32_t { kEpilogueDefault = 1, kEpilogueBias = 4, kEpilogueGelu = 32, kEpilogueGeluBias = 36 };

// Function pointers into libcublasLt, resolved once.
struct Api {
  Status (*create)(Handle*) = nullptr;
  Status (*destroy)(Handle) = nullptr;
  size_t (*get_version)() = nullptr;
  Status (*desc_create)(MatmulDesc*, int compute_type, cudaDataType_t scale_type) = nullptr;
  Status (*desc_destroy)(MatmulDesc) = nullptr;
  Status (*desc_set)(MatmulDesc, int attribute, const void* buffer, size_t bytes) = nullptr;
  Status (*layout_create)(MatrixLayout*, cudaDataType_t type, uint64_t rows, uint64_t cols, int64_t ld) = nullptr;
  Status (*layout_destroy)(MatrixLayout) = nullptr;
  Status (*layout_set)(MatrixLayout, int attribute, const void* buffer, size_t bytes) = nullptr;
  Status (*pref_create)(Preference*) = nullptr;
  Status (*pref_destroy)(Preference) = nullptr;
  Status (*pref_set)(Preference, int attribute, const void* buffer, size_t bytes) = nullptr;
  Status (*heuristic)(Handle, MatmulDesc, MatrixLayout a, MatrixLayout b, MatrixLayout c, MatrixLayout d,
                      Preference, int requested, HeuristicResult* results, int* returned) = nullptr;
  Status (*matmul)(Handle, MatmulDesc, const void* alpha, const void* a, MatrixLayout a_desc, const void* b,
                   MatrixLayout b_desc, const void* beta, const void* c, MatrixLayout c_desc, void* d,
                   MatrixLayout d_desc, const MatmulAlgo* algo, void* workspace, size_t workspace_bytes,
                   cudaStream_t stream) = nullptr;
};

// Loads libcublasLt.so.13 (then .so.12, then .so) once per process. Returns null and sets
// `reason` (with possible fixes) when no library or symbol can be found; never throws.
const Api* load(std::string* reason);

// "CUBLAS_STATUS_..." for a status code.
const char* status_name(Status status);

}  // namespace sctdiff::cuda::lt
