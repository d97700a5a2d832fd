// Errors of the CUDA backend. Every CUDA runtime or cuBLASLt failure becomes a CudaError (a
// std::runtime_error, so the binding's generic handler reports it) whose message names the call
// and, where the cause is usually on the host (no driver, no device, missing library), the
// possible fixes. Unavailability at start-up is a CudaUnavailableError, which the C ABI reports
// as SCTDIFF_CUDA_UNAVAILABLE so `device: 'auto'` can fall back to the CPU.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace sctdiff::cuda {

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// No usable device, driver or library on this host: not a bug, a configuration.
class CudaUnavailableError : public CudaError {
 public:
  using CudaError::CudaError;
};

// Text for a CUDA runtime status, with fixes for the statuses that mean "nothing to run on".
std::string describe_cuda_status(cudaError_t status);

// Throws CudaError ("<what> failed: <reason>") unless status is cudaSuccess.
void check_cuda(cudaError_t status, const char* what);

}  // namespace sctdiff::cuda

#define SCTDIFF_CUDA_CHECK(call) ::sctdiff::cuda::check_cuda((call), #call)
