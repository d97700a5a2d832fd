// The CUDA engine: the shared forward pass (native/engine/network.h) on a CudaBackend, wrapped
// so each Engine call opens the NVTX "frame" range and tags its ops with their phase.
#pragma once

#include <memory>

#include "../engine/engine.h"
#include "cuda_backend.h"

namespace sctdiff {
class WeightFile;
}

namespace sctdiff::cuda {

class CudaEngine final : public Engine {
 public:
  CudaEngine(std::shared_ptr<const WeightFile> weights, const CudaBackendOptions& options);
  ~CudaEngine() override;
  CudaEngine(const CudaEngine&) = delete;
  CudaEngine& operator=(const CudaEngine&) = delete;

  const ModelConfig& config() const override { return inner_->config(); }
  std::string backend_name() const override { return "cuda"; }
  void set_template(int index, const FrameView& frame, const CropParams& crop) override;
  void encode(const std::vector<FrameView>& frames, const std::vector<CropParams>& crops,
              const std::vector<int>& slots) override;
  DecodeOutput decode(const std::vector<int>& slots, const std::vector<int32_t>& tokens,
                      const std::vector<int32_t>& timesteps, uint64_t seed) override;
  std::vector<float> debug_preprocess(const FrameView& frame, const CropParams& crop) override;
  std::vector<float> debug_features(int slot) override;
  DecodeOutput debug_decode(const std::vector<int>& slots, const std::vector<int32_t>& tokens,
                            const std::vector<int32_t>& timesteps, uint64_t seed) override;

  CudaBackend& backend() { return *backend_; }

 private:
  CudaBackend* backend_;  // owned by inner_
  std::unique_ptr<Engine> inner_;
};

}  // namespace sctdiff::cuda
