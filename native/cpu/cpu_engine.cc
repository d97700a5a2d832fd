// The CPU engine: the backend-neutral forward pass on the CpuBackend.
#include <memory>

#include "../engine/batch_engine.h"
#include "../engine/network.h"
#include "cpu_backend.h"

namespace sctdiff {

std::unique_ptr<Engine> create_cpu_engine(std::shared_ptr<const WeightFile> weights, int threads) {
  return create_backend_engine(std::make_unique<CpuBackend>(threads), std::move(weights));
}

std::unique_ptr<BatchEngine> create_cpu_batch_engine(std::shared_ptr<const WeightFile> weights, int threads,
                                                     const BatchEngineOptions& options) {
  return create_batch_engine(std::make_unique<CpuBackend>(threads), std::move(weights), options);
}

}  // namespace sctdiff
