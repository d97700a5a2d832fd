// The CUDA batch engine: one engine serving many streams (native/engine/batch_engine.h) on a
// CudaBackend, wrapped like CudaEngine so each call opens the NVTX "frame" range and tags its
// ops with their phase. The batched forward pass is the shared one (the CPU batch engine runs
// the same code on its backend), so the CUDA-specific part is only the backend.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../engine/batch_engine.h"
#include "cuda_backend.h"

namespace sctdiff {
class WeightFile;
}

namespace sctdiff::cuda {

class CudaBatchEngine final : public BatchEngine {
 public:
  CudaBatchEngine(std::shared_ptr<const WeightFile> weights, const CudaBackendOptions& options);
  ~CudaBatchEngine() override;
  CudaBatchEngine(const CudaBatchEngine&) = delete;
  CudaBatchEngine& operator=(const CudaBatchEngine&) = delete;

  const ModelConfig& config() const override { return inner_->config(); }
  std::string backend_name() const override { return "cuda"; }
  void set_template(int stream, int index, const FrameView& frame, const CropParams& crop) override;
  void release_stream(int stream) override;
  void check_encode(const StreamEncode& request) const override { inner_->check_encode(request); }
  void check_decode(const StreamDecode& request) const override { inner_->check_decode(request); }
  void encode_batch(const std::vector<StreamEncode>& requests) override;
  std::vector<DecodeOutput> decode_batch(const std::vector<StreamDecode>& requests, bool with_logits = false) override;
  std::vector<float> debug_preprocess(const FrameView& frame, const CropParams& crop) override;
  std::vector<float> debug_features(int stream, int slot) override;

  CudaBackend& backend() { return *backend_; }

 private:
  CudaBackend* backend_;  // owned by inner_
  std::unique_ptr<BatchEngine> inner_;
};

}  // namespace sctdiff::cuda
