// One engine serving many streams (trackers): one backend and one set of weights, per-stream
// state (the two template token sets and the feature slots of each stream), and calls that run
// the encode requests, or the decode requests, of several streams as one batch. The binding's
// scheduler (native/binding/engine_group.h) gathers the requests that piled up while the engine
// was busy and hands them over together; a lone request is a batch of one.
//
// Not thread-safe: the binding calls it from its group's single worker thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine.h"

namespace sctdiff {

class Backend;
class WeightFile;

// Encode `frames` of stream `stream` with that stream's templates into its feature slots.
struct StreamEncode {
  int stream = 0;
  std::vector<FrameView> frames;
  std::vector<CropParams> crops;
  std::vector<int> slots;
};

// Decode a window of stream `stream`: its slots oldest first, 4 prior tokens and one timestep
// per frame, the seed of its noise.
struct StreamDecode {
  int stream = 0;
  std::vector<int> slots;
  std::vector<int32_t> tokens;
  std::vector<int32_t> timesteps;
  uint64_t seed = 0;
};

class BatchEngine {
 public:
  // The most requests one batched call takes (the scheduler's batch limit).
  static constexpr int kMaxBatch = 16;

  virtual ~BatchEngine() = default;
  virtual const ModelConfig& config() const = 0;
  virtual std::string backend_name() const = 0;

  // A stream's state is created by its first set_template and freed by release_stream (or with
  // the engine). Stream ids are the caller's (any int).
  virtual void set_template(int stream, int index, const FrameView& frame, const CropParams& crop) = 0;
  virtual void release_stream(int stream) = 0;

  // Throw std::invalid_argument ("Expected ... but received ...") for a request that would fail,
  // without running anything: the scheduler checks each request alone so that a bad one fails
  // only its own caller, then batches the rest.
  virtual void check_encode(const StreamEncode& request) const = 0;
  virtual void check_decode(const StreamDecode& request) const = 0;

  // Run the requests (at most one per stream, each already checked) as one batch: all frames
  // through the encoder together, each with its own stream's templates.
  virtual void encode_batch(const std::vector<StreamEncode>& requests) = 0;
  // Decode the windows of several streams; results in request order. `with_logits` also reads
  // back the logits [frames, 6, vocab] (debug).
  virtual std::vector<DecodeOutput> decode_batch(const std::vector<StreamDecode>& requests, bool with_logits = false) = 0;

  // Debugging and parity checks (engine.h).
  virtual std::vector<float> debug_preprocess(const FrameView& frame, const CropParams& crop) = 0;
  virtual std::vector<float> debug_features(int stream, int slot) = 0;
};

struct BatchEngineOptions {
  // Pad every batched call up to one of a few fixed shapes, so that a backend which captures a
  // CUDA graph per shape captures a handful instead of one per count of streams: the encoder's
  // frame count goes up to the next 2^k or 3·2^k (3·{1, 2, 4, 8, 16} for 1 to 16 streams of 3
  // frames), each decode group's window count up to the next of 1, 2, 4, 8, 16. Padding repeats
  // the last frame or window and drops its results, so results are those of the unpadded call
  // (up to GEMM tiling, which may differ with the row count). Costs compute where there is no
  // graph to save: off by default, on for CUDA with graphs (CudaBatchEngine).
  bool pad_to_captured_sizes = false;
};

// The padded sizes of BatchEngineOptions::pad_to_captured_sizes.
int padded_encode_frames(int frames);
int padded_decode_windows(int windows);

// A BatchEngine over any backend (takes ownership); weights as create_backend_engine takes them.
std::unique_ptr<BatchEngine> create_batch_engine(std::unique_ptr<Backend> backend,
                                                 std::shared_ptr<const WeightFile> weights,
                                                 const BatchEngineOptions& options = {});

// The CPU batch engine (native/cpu). `threads` <= 0 means one per core.
std::unique_ptr<BatchEngine> create_cpu_batch_engine(std::shared_ptr<const WeightFile> weights, int threads,
                                                     const BatchEngineOptions& options = {});

}  // namespace sctdiff
