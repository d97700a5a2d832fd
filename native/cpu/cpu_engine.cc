// The CPU engine: the backend-neutral forward pass on the CpuBackend.
#include <memory>

#include "../engine/network.h"
#include "cpu_backend.h"

namespace sctdiff {

std::unique_ptr<Engine> create_cpu_engine(std::shared_ptr<const WeightFile> weights, int threads) {
  return create_backend_engine(std::make_unique<CpuBackend>(threads), std::move(weights));
}

}  // namespace sctdiff
