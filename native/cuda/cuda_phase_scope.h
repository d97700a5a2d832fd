// Makes the backend's device current and sets its phase (the NVTX range its ops are tagged
// with, nvtx_ranges.h) for the life of a scope: what every CudaEngine and CudaBatchEngine call
// opens first, since the binding may call an engine from a thread other than its creator's.
#pragma once

#include "cuda_backend.h"

namespace sctdiff::cuda {

class PhaseScope {
 public:
  PhaseScope(CudaBackend& backend, const char* phase) : backend_(backend) {
    backend_.make_current();
    backend_.set_phase(phase);
  }
  ~PhaseScope() { backend_.set_phase(nullptr); }
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  CudaBackend& backend_;
};

}  // namespace sctdiff::cuda
