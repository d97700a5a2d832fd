#include "batch_engine.h"

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.h"
#include "decoder.h"
#include "device_weights.h"
#include "encoder.h"
#include "tensor.h"
#include "weight_cache.h"
#include "weights.h"

namespace sctdiff {

namespace {

[[noreturn]] void reject(const std::string& expected, const std::string& received) {
  throw std::invalid_argument("Expected " + expected + " but received " + received);
}

// The engine's weights: the process-wide set for this file and memory space when the backend
// can place weights outside itself, else a private set allocated from the backend. A private
// set borrows the backend (a non-owning pointer): the engine destroys its weights before its
// backend.
std::shared_ptr<const DeviceWeights> load_weights(Backend& backend, const WeightFile& file) {
  const WeightPlacement placement = backend.weight_placement();
  if (placement.shareable() && file.identity()) return WeightCache::process().acquire(file, placement);
  if (placement.shareable()) return std::make_shared<const DeviceWeights>(placement.allocator, file);
  return std::make_shared<const DeviceWeights>(std::shared_ptr<DeviceAllocator>(std::shared_ptr<DeviceAllocator>(), &backend), file);
}

void check_frame(const FrameView& frame, const std::string& what) {
  if (frame.data == nullptr) reject("pixel data for " + what, "none");
  if (frame.width <= 0) reject("a positive width for " + what, std::to_string(frame.width));
  if (frame.height <= 0) reject("a positive height for " + what, std::to_string(frame.height));
  const int channels = frame.format == PixelFormat::kGray ? 1 : frame.format == PixelFormat::kRGBA ? 4 : 3;
  if (frame.stride < frame.width * channels) {
    reject("a row stride of at least " + std::to_string(frame.width * channels) + " bytes for " + what, std::to_string(frame.stride));
  }
}

void check_crop(const CropParams& crop, int output_size, const std::string& what) {
  if (crop.side < 1) reject("a positive side for " + what, std::to_string(crop.side));
  if (crop.output_size != output_size) reject("an output size of " + std::to_string(output_size) + " for " + what, std::to_string(crop.output_size));
}

// What one stream keeps between calls: its two templates and its feature slots.
struct StreamState {
  DeviceArray<float> template_images[2], template_tokens[2];
  bool template_set[2] = {false, false};
  DeviceArray<float> features;  // [slots, Hs·Ws, D]
  std::vector<bool> slot_filled;
};

class BackendBatchEngine final : public BatchEngine {
 public:
  BackendBatchEngine(std::unique_ptr<Backend> backend, const WeightFile& file, const BatchEngineOptions& options)
      : options_(options),
        config_(file.config()),
        backend_(std::move(backend)),
        weights_(load_weights(*backend_, file)),
        encoder_(backend_.get(), config_, *weights_),
        decoder_(backend_.get(), config_, *weights_) {
    slot_count_ = 2 * config_.decoder.clip_len;
    feature_size_ = static_cast<size_t>(encoder_.search_tokens()) * static_cast<size_t>(config_.encoder.dim);
  }

  // Shared weights may be freed below (this engine their last user) by their own allocator,
  // which knows nothing of the backend's queued work: finish that work first.
  ~BackendBatchEngine() override {
    try {
      backend_->synchronize();
    } catch (...) {  // a destructor must not throw; the device error was reported by the last call
    }
    streams_.clear();  // stream buffers go back to the backend before it is destroyed
  }

  const ModelConfig& config() const override { return config_; }
  std::string backend_name() const override { return backend_->name(); }

  void set_template(int stream, int index, const FrameView& frame, const CropParams& crop) override {
    if (index != 0 && index != 1) reject("a template index of 0 or 1", std::to_string(index));
    check_frame(frame, "template frame");
    check_crop(crop, config_.encoder.template_size, "template crop");
    StreamState& state = stream_state(stream);
    run_preprocess(frame, crop, state.template_images[index].data());
    encoder_.embed_template(index, state.template_images[index].data(), state.template_tokens[index].data());
    state.template_set[index] = true;
  }

  void release_stream(int stream) override {
    backend_->synchronize();  // its buffers may still be read by queued work
    streams_.erase(stream);
  }

  void check_encode(const StreamEncode& request) const override {
    const auto& frames = request.frames;
    if (request.crops.size() != frames.size() || request.slots.size() != frames.size()) {
      reject("as many crops and slots as frames (" + std::to_string(frames.size()) + ")",
             std::to_string(request.crops.size()) + " crops and " + std::to_string(request.slots.size()) + " slots");
    }
    const StreamState* state = find_stream(request.stream);
    const bool set0 = state != nullptr && state->template_set[0];
    const bool set1 = state != nullptr && state->template_set[1];
    if (!set0 || !set1) {
      const std::string missing = !set0 && !set1 ? "templates 0 and 1" : !set0 ? "template 0" : "template 1";
      reject("both templates set before encode", "no " + missing);
    }
    for (size_t i = 0; i < frames.size(); ++i) {
      check_frame(frames[i], "frame " + std::to_string(i));
      check_crop(request.crops[i], config_.encoder.search_size, "search crop " + std::to_string(i));
      check_slot(request.slots[i]);
    }
  }

  void check_decode(const StreamDecode& request) const override {
    const int frames = static_cast<int>(request.slots.size());
    const int clip = config_.decoder.clip_len;
    if (frames < 1 || frames > clip) reject("between 1 and " + std::to_string(clip) + " frames to decode", std::to_string(frames));
    if (request.tokens.size() != 4 * request.slots.size()) {
      reject(std::to_string(4 * frames) + " prior tokens (4 per frame)", std::to_string(request.tokens.size()));
    }
    if (request.timesteps.size() != request.slots.size()) {
      reject(std::to_string(frames) + " timesteps (1 per frame)", std::to_string(request.timesteps.size()));
    }
    const StreamState* state = find_stream(request.stream);
    for (int slot : request.slots) {
      check_slot(slot);
      if (state == nullptr || !state->slot_filled[static_cast<size_t>(slot)]) {
        reject("an encoded feature slot", "slot " + std::to_string(slot) + " which was never encoded");
      }
    }
    for (int32_t token : request.tokens) {
      if (token < 0 || token >= config_.tokens.vocab) {
        reject("a token in [0, " + std::to_string(config_.tokens.vocab - 1) + "]", std::to_string(token));
      }
    }
    for (int32_t t : request.timesteps) {
      if (t < 0 || t >= config_.diffusion.T) reject("a timestep in [0, " + std::to_string(config_.diffusion.T - 1) + "]", std::to_string(t));
    }
  }

  void encode_batch(const std::vector<StreamEncode>& requests) override {
    int count = 0;
    for (const StreamEncode& request : requests) {
      check_encode(request);
      count += static_cast<int>(request.frames.size());
    }
    if (count == 0) return;
    const int padded = options_.pad_to_captured_sizes ? padded_encode_frames(count) : count;
    const size_t crop_size = 3 * static_cast<size_t>(config_.encoder.search_size) * config_.encoder.search_size;
    if (search_images_.size() < crop_size * static_cast<size_t>(padded)) {
      search_images_ = DeviceArray<float>(backend_.get(), crop_size * static_cast<size_t>(padded));
    }
    std::vector<float*> outputs;
    std::vector<Encoder::TemplatePair> templates;
    std::vector<PreprocessImage> images;
    for (const StreamEncode& request : requests) {
      StreamState& state = stream_state(request.stream);
      for (size_t i = 0; i < request.frames.size(); ++i) {
        images.push_back(PreprocessImage{request.frames[i], request.crops[i], search_images_.data() + crop_size * outputs.size()});
        outputs.push_back(slot_features(state, request.slots[i]));
        templates.push_back({state.template_tokens[0].data(), state.template_tokens[1].data()});
      }
    }
    run_preprocess(images);  // every frame of the batch in one call: one upload, one launch
    if (padded > count) {
      // Padding frames: copies of the last crop with its templates, features into scratch. The
      // encoder keeps frames apart (attention is per frame, every other op per row), so they
      // change nothing for the real ones.
      const size_t extra = static_cast<size_t>(padded - count);
      if (padding_features_.size() < feature_size_ * extra) padding_features_ = DeviceArray<float>(backend_.get(), feature_size_ * extra);
      const float* last_crop = search_images_.data() + crop_size * static_cast<size_t>(count - 1);
      const Encoder::TemplatePair last_templates = templates.back();
      // One block copy for all padding crops (the last crop is only read).
      std::vector<const float*> sources(extra, last_crop);
      std::vector<float*> destinations;
      for (size_t i = 0; i < extra; ++i) {
        destinations.push_back(search_images_.data() + crop_size * outputs.size());
        outputs.push_back(padding_features_.data() + feature_size_ * i);
        templates.push_back(last_templates);
      }
      BlockCopyParams copy;
      copy.count = static_cast<int>(extra);
      copy.elements = static_cast<int64_t>(crop_size);
      copy.sources = sources.data();
      copy.destinations = destinations.data();
      backend_->copy_blocks(copy);
    }
    encoder_.encode(padded, search_images_.data(), templates, outputs);
    for (const StreamEncode& request : requests) {
      StreamState& state = stream_state(request.stream);
      for (int slot : request.slots) state.slot_filled[static_cast<size_t>(slot)] = true;
    }
  }

  // Windows of different lengths cannot share one pass: the Mamba scans take equal-length
  // sequences at a fixed stride (SelectiveScanParams::sequences), which is also the shape a
  // captured CUDA graph needs. So the requests are grouped by frame count and each group runs as
  // one decoder pass. Trackers in steady state decode full windows (or, with 'frame' latency,
  // windows of the same few lengths), so groups stay large; padding short windows instead would
  // change their results.
  std::vector<DecodeOutput> decode_batch(const std::vector<StreamDecode>& requests, bool with_logits) override {
    for (const StreamDecode& request : requests) check_decode(request);
    std::vector<DecodeOutput> results(requests.size());
    std::map<size_t, std::vector<size_t>> by_length;  // frame count -> request indices, in order
    for (size_t i = 0; i < requests.size(); ++i) by_length[requests[i].slots.size()].push_back(i);
    for (const auto& group : by_length) {
      const size_t frames = group.first;
      std::vector<DecoderInput> windows;
      for (size_t index : group.second) {
        const StreamDecode& request = requests[index];
        StreamState& state = stream_state(request.stream);
        DecoderInput input;
        for (int slot : request.slots) input.features.push_back(slot_features(state, slot));
        input.tokens = request.tokens;
        input.timesteps = request.timesteps;
        input.seed = request.seed;
        windows.push_back(std::move(input));
      }
      const size_t real = windows.size();
      if (options_.pad_to_captured_sizes) {
        // Padding windows repeat the last one; each window is its own sequence in every op, and
        // only the real windows' rows are read back.
        const DecoderInput last = windows.back();
        windows.resize(static_cast<size_t>(padded_decode_windows(static_cast<int>(real))), last);
      }
      decoder_.run_batch(windows);
      const int total = static_cast<int>(frames * real);
      const std::vector<int32_t> tokens = decoder_.tokens(total);
      const std::vector<float> scores = decoder_.scores(total);
      std::vector<float> logits;
      if (with_logits) logits = decoder_.logits(total);
      const size_t logits_per_window = frames * 6 * static_cast<size_t>(config_.tokens.vocab);
      for (size_t w = 0; w < group.second.size(); ++w) {
        DecodeOutput& out = results[group.second[w]];
        out.tokens.assign(tokens.begin() + static_cast<std::ptrdiff_t>(w * frames * 4),
                          tokens.begin() + static_cast<std::ptrdiff_t>((w + 1) * frames * 4));
        out.scores.assign(scores.begin() + static_cast<std::ptrdiff_t>(w * frames * 4),
                          scores.begin() + static_cast<std::ptrdiff_t>((w + 1) * frames * 4));
        if (with_logits) {
          out.logits.assign(logits.begin() + static_cast<std::ptrdiff_t>(w * logits_per_window),
                            logits.begin() + static_cast<std::ptrdiff_t>((w + 1) * logits_per_window));
        }
      }
    }
    return results;
  }

  std::vector<float> debug_preprocess(const FrameView& frame, const CropParams& crop) override {
    check_frame(frame, "frame");
    if (crop.output_size != config_.encoder.search_size && crop.output_size != config_.encoder.template_size) {
      reject("a crop output size of " + std::to_string(config_.encoder.search_size) + " or " +
                 std::to_string(config_.encoder.template_size),
             std::to_string(crop.output_size));
    }
    check_crop(crop, crop.output_size, "crop");
    DeviceArray<float> image(backend_.get(), 3 * static_cast<size_t>(crop.output_size) * crop.output_size);
    run_preprocess(frame, crop, image.data());
    return image.to_host();
  }

  std::vector<float> debug_features(int stream, int slot) override {
    check_slot(slot);
    std::vector<float> out(feature_size_, 0.0f);
    StreamState* state = find_stream(stream);
    if (state != nullptr) backend_->download(out.data(), slot_features(*state, slot), feature_size_ * sizeof(float));
    return out;
  }

 private:
  StreamState* find_stream(int stream) {
    auto found = streams_.find(stream);
    return found == streams_.end() ? nullptr : &found->second;
  }
  const StreamState* find_stream(int stream) const {
    auto found = streams_.find(stream);
    return found == streams_.end() ? nullptr : &found->second;
  }

  // The stream's state, allocated on first use.
  StreamState& stream_state(int stream) {
    auto found = streams_.find(stream);
    if (found != streams_.end()) return found->second;
    StreamState& state = streams_[stream];
    const auto& e = config_.encoder;
    const size_t nz = static_cast<size_t>(encoder_.template_tokens());
    for (int i = 0; i < 2; ++i) {
      state.template_images[i] = DeviceArray<float>(backend_.get(), 3 * static_cast<size_t>(e.template_size) * e.template_size);
      state.template_tokens[i] = DeviceArray<float>(backend_.get(), nz * static_cast<size_t>(e.dim));
    }
    state.features = DeviceArray<float>(backend_.get(), feature_size_ * static_cast<size_t>(slot_count_));
    state.slot_filled.assign(static_cast<size_t>(slot_count_), false);
    return state;
  }

  float* slot_features(StreamState& state, int slot) { return state.features.data() + feature_size_ * static_cast<size_t>(slot); }

  void run_preprocess(const std::vector<PreprocessImage>& images) {
    PreprocessParams p;
    p.count = static_cast<int>(images.size());
    p.images = images.data();
    for (int c = 0; c < 3; ++c) {
      p.mean[c] = config_.mean[c];
      p.std[c] = config_.std[c];
    }
    backend_->preprocess(p);
  }
  void run_preprocess(const FrameView& frame, const CropParams& crop, float* out) {
    run_preprocess(std::vector<PreprocessImage>{PreprocessImage{frame, crop, out}});
  }

  void check_slot(int slot) const {
    if (slot < 0 || slot >= slot_count_) reject("a feature slot in [0, " + std::to_string(slot_count_ - 1) + "]", std::to_string(slot));
  }

  BatchEngineOptions options_;
  ModelConfig config_;
  std::unique_ptr<Backend> backend_;
  std::shared_ptr<const DeviceWeights> weights_;  // after backend_: private weights release into it
  Encoder encoder_;
  Decoder decoder_;
  int slot_count_ = 0;
  size_t feature_size_ = 0;
  DeviceArray<float> search_images_;
  DeviceArray<float> padding_features_;  // where padding frames' features go (dropped)
  std::map<int, StreamState> streams_;  // after backend_: freed into it first
};

}  // namespace

namespace {

int next_power_of_two(int n) {
  int power = 1;
  while (power < n) power *= 2;
  return power;
}

}  // namespace

int padded_encode_frames(int frames) {
  if (frames <= 1) return frames;
  const int power = next_power_of_two(frames);
  // The smallest 2^k or 3·2^k that holds `frames`: 3·2^(k-2) lies between 2^(k-1) and 2^k.
  const int three = 3 * (power / 4);
  return three >= frames ? three : power;
}

int padded_decode_windows(int windows) { return windows <= 0 ? windows : next_power_of_two(windows); }

std::unique_ptr<BatchEngine> create_batch_engine(std::unique_ptr<Backend> backend,
                                                 std::shared_ptr<const WeightFile> weights,
                                                 const BatchEngineOptions& options) {
  if (!backend) throw std::invalid_argument("Expected a backend but received none");
  if (!weights) throw std::invalid_argument("Expected a weight file but received none");
  return std::make_unique<BackendBatchEngine>(std::move(backend), *weights, options);
}

}  // namespace sctdiff
