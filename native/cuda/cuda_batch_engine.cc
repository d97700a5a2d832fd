#include "cuda_batch_engine.h"

#include "../engine/weights.h"
#include "cuda_phase_scope.h"
#include "nvtx_ranges.h"

namespace sctdiff::cuda {
namespace {

std::unique_ptr<BatchEngine> make_inner(std::shared_ptr<const WeightFile> weights, const CudaBackendOptions& options,
                                        CudaBackend** backend) {
  auto owned = std::make_unique<CudaBackend>(options);
  *backend = owned.get();
  // With graphs, batches pad up to the few sizes captured once each (batch_engine.h).
  BatchEngineOptions batching;
  batching.pad_to_captured_sizes = options.graphs;
  std::unique_ptr<BatchEngine> engine = create_batch_engine(std::move(owned), std::move(weights), batching);
  (*backend)->synchronize();  // weights resident before the first call
  return engine;
}

}  // namespace

CudaBatchEngine::CudaBatchEngine(std::shared_ptr<const WeightFile> weights, const CudaBackendOptions& options)
    : backend_(nullptr), inner_(make_inner(std::move(weights), options, &backend_)) {}

CudaBatchEngine::~CudaBatchEngine() {
  try {
    backend_->make_current();  // the group's worker thread may not be the creating thread
  } catch (...) {
  }
  inner_.reset();
}

void CudaBatchEngine::set_template(int stream, int index, const FrameView& frame, const CropParams& crop) {
  NvtxRange range(phase::kFrame);
  PhaseScope scope(*backend_, phase::kEncoder);
  inner_->set_template(stream, index, frame, crop);
}

void CudaBatchEngine::release_stream(int stream) {
  PhaseScope scope(*backend_, nullptr);  // frees device memory: the device must be current
  inner_->release_stream(stream);
}

void CudaBatchEngine::encode_batch(const std::vector<StreamEncode>& requests) {
  NvtxRange range(phase::kFrame);
  PhaseScope scope(*backend_, phase::kEncoder);
  inner_->encode_batch(requests);
}

std::vector<DecodeOutput> CudaBatchEngine::decode_batch(const std::vector<StreamDecode>& requests, bool with_logits) {
  NvtxRange range(phase::kFrame);
  PhaseScope scope(*backend_, phase::kDecoder);
  return inner_->decode_batch(requests, with_logits);
}

std::vector<float> CudaBatchEngine::debug_preprocess(const FrameView& frame, const CropParams& crop) {
  PhaseScope scope(*backend_, phase::kPreprocess);
  return inner_->debug_preprocess(frame, crop);
}

std::vector<float> CudaBatchEngine::debug_features(int stream, int slot) {
  PhaseScope scope(*backend_, nullptr);
  return inner_->debug_features(stream, slot);
}

}  // namespace sctdiff::cuda
