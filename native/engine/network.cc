#include "network.h"

#include <stdexcept>
#include <string>
#include <vector>

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
// set borrows the backend (a non-owning pointer): BackendEngine destroys its weights before its
// backend.
std::shared_ptr<const DeviceWeights> load_weights(Backend& backend, const WeightFile& file) {
  const WeightPlacement placement = backend.weight_placement();
  if (placement.shareable() && file.identity()) return WeightCache::process().acquire(file, placement);
  if (placement.shareable()) return std::make_shared<const DeviceWeights>(placement.allocator, file);
  return std::make_shared<const DeviceWeights>(std::shared_ptr<DeviceAllocator>(std::shared_ptr<DeviceAllocator>(), &backend), file);
}

class BackendEngine final : public Engine {
 public:
  BackendEngine(std::unique_ptr<Backend> backend, const WeightFile& file)
      : config_(file.config()),
        backend_(std::move(backend)),
        weights_(load_weights(*backend_, file)),
        encoder_(backend_.get(), config_, *weights_),
        decoder_(backend_.get(), config_, *weights_) {
    const auto& e = config_.encoder;
    const size_t D = static_cast<size_t>(e.dim);
    const size_t nz = static_cast<size_t>(encoder_.template_tokens());
    slot_count_ = 2 * config_.decoder.clip_len;
    feature_size_ = static_cast<size_t>(encoder_.search_tokens()) * D;
    features_ = DeviceArray<float>(backend_.get(), feature_size_ * static_cast<size_t>(slot_count_));
    slot_filled_.assign(static_cast<size_t>(slot_count_), false);
    for (int i = 0; i < 2; ++i) {
      template_images_[i] = DeviceArray<float>(backend_.get(), 3 * static_cast<size_t>(e.template_size) * e.template_size);
      template_tokens_[i] = DeviceArray<float>(backend_.get(), nz * D);
    }
  }

  // Shared weights may be freed below (this engine their last user) by their own allocator,
  // which knows nothing of the backend's queued work: finish that work first.
  ~BackendEngine() override {
    try {
      backend_->synchronize();
    } catch (...) {  // a destructor must not throw; the device error was reported by the last call
    }
  }

  const ModelConfig& config() const override { return config_; }
  std::string backend_name() const override { return backend_->name(); }

  void set_template(int index, const FrameView& frame, const CropParams& crop) override {
    if (index != 0 && index != 1) reject("a template index of 0 or 1", std::to_string(index));
    check_frame(frame, "template frame");
    check_crop(crop, config_.encoder.template_size, "template crop");
    run_preprocess(frame, crop, template_images_[index].data());
    encoder_.embed_template(index, template_images_[index].data(), template_tokens_[index].data());
    template_set_[index] = true;
  }

  void encode(const std::vector<FrameView>& frames, const std::vector<CropParams>& crops,
              const std::vector<int>& slots) override {
    if (crops.size() != frames.size() || slots.size() != frames.size()) {
      reject("as many crops and slots as frames (" + std::to_string(frames.size()) + ")",
             std::to_string(crops.size()) + " crops and " + std::to_string(slots.size()) + " slots");
    }
    if (!template_set_[0] || !template_set_[1]) {
      const std::string missing = !template_set_[0] && !template_set_[1] ? "templates 0 and 1"
                                  : !template_set_[0]                    ? "template 0"
                                                                         : "template 1";
      reject("both templates set before encode", "no " + missing);
    }
    for (size_t i = 0; i < frames.size(); ++i) {
      check_frame(frames[i], "frame " + std::to_string(i));
      check_crop(crops[i], config_.encoder.search_size, "search crop " + std::to_string(i));
      check_slot(slots[i]);
    }
    const int count = static_cast<int>(frames.size());
    if (count == 0) return;
    const size_t crop_size = 3 * static_cast<size_t>(config_.encoder.search_size) * config_.encoder.search_size;
    if (search_images_.size() < crop_size * static_cast<size_t>(count)) {
      search_images_ = DeviceArray<float>(backend_.get(), crop_size * static_cast<size_t>(count));
    }
    std::vector<float*> outputs;
    for (int i = 0; i < count; ++i) {
      run_preprocess(frames[static_cast<size_t>(i)], crops[static_cast<size_t>(i)],
                     search_images_.data() + crop_size * static_cast<size_t>(i));
      outputs.push_back(slot_features(slots[static_cast<size_t>(i)]));
    }
    encoder_.encode(count, search_images_.data(), template_tokens_[0].data(), template_tokens_[1].data(), outputs);
    for (int slot : slots) slot_filled_[static_cast<size_t>(slot)] = true;
  }

  DecodeOutput decode(const std::vector<int>& slots, const std::vector<int32_t>& tokens,
                      const std::vector<int32_t>& timesteps, uint64_t seed) override {
    const int frames = run_decoder(slots, tokens, timesteps, seed);
    DecodeOutput out;
    out.tokens = decoder_.tokens(frames);
    out.scores = decoder_.scores(frames);
    return out;
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

  std::vector<float> debug_features(int slot) override {
    check_slot(slot);
    std::vector<float> out(feature_size_);
    backend_->download(out.data(), slot_features(slot), feature_size_ * sizeof(float));
    return out;
  }

  DecodeOutput debug_decode(const std::vector<int>& slots, const std::vector<int32_t>& tokens,
                            const std::vector<int32_t>& timesteps, uint64_t seed) override {
    const int frames = run_decoder(slots, tokens, timesteps, seed);
    DecodeOutput out;
    out.tokens = decoder_.tokens(frames);
    out.scores = decoder_.scores(frames);
    out.logits = decoder_.logits(frames);
    return out;
  }

 private:
  int run_decoder(const std::vector<int>& slots, const std::vector<int32_t>& tokens,
                  const std::vector<int32_t>& timesteps, uint64_t seed) {
    const int frames = static_cast<int>(slots.size());
    const int clip = config_.decoder.clip_len;
    if (frames < 1 || frames > clip) reject("between 1 and " + std::to_string(clip) + " frames to decode", std::to_string(frames));
    if (tokens.size() != 4 * slots.size()) reject(std::to_string(4 * frames) + " prior tokens (4 per frame)", std::to_string(tokens.size()));
    if (timesteps.size() != slots.size()) reject(std::to_string(frames) + " timesteps (1 per frame)", std::to_string(timesteps.size()));
    DecoderInput input;
    for (int slot : slots) {
      check_slot(slot);
      if (!slot_filled_[static_cast<size_t>(slot)]) reject("an encoded feature slot", "slot " + std::to_string(slot) + " which was never encoded");
      input.features.push_back(slot_features(slot));
    }
    for (int32_t token : tokens) {
      if (token < 0 || token >= config_.tokens.vocab) {
        reject("a token in [0, " + std::to_string(config_.tokens.vocab - 1) + "]", std::to_string(token));
      }
    }
    for (int32_t t : timesteps) {
      if (t < 0 || t >= config_.diffusion.T) reject("a timestep in [0, " + std::to_string(config_.diffusion.T - 1) + "]", std::to_string(t));
    }
    input.tokens = tokens;
    input.timesteps = timesteps;
    input.seed = seed;
    decoder_.run(input);
    return frames;
  }

  float* slot_features(int slot) { return features_.data() + feature_size_ * static_cast<size_t>(slot); }

  void run_preprocess(const FrameView& frame, const CropParams& crop, float* out) {
    PreprocessParams p;
    p.frame = frame;
    p.crop = crop;
    for (int c = 0; c < 3; ++c) {
      p.mean[c] = config_.mean[c];
      p.std[c] = config_.std[c];
    }
    p.out = out;
    backend_->preprocess(p);
  }

  void check_slot(int slot) const {
    if (slot < 0 || slot >= slot_count_) reject("a feature slot in [0, " + std::to_string(slot_count_ - 1) + "]", std::to_string(slot));
  }

  static void check_frame(const FrameView& frame, const std::string& what) {
    if (frame.data == nullptr) reject("pixel data for " + what, "none");
    if (frame.width <= 0) reject("a positive width for " + what, std::to_string(frame.width));
    if (frame.height <= 0) reject("a positive height for " + what, std::to_string(frame.height));
    const int channels = frame.format == PixelFormat::kGray ? 1 : frame.format == PixelFormat::kRGBA ? 4 : 3;
    if (frame.stride < frame.width * channels) {
      reject("a row stride of at least " + std::to_string(frame.width * channels) + " bytes for " + what, std::to_string(frame.stride));
    }
  }

  static void check_crop(const CropParams& crop, int output_size, const std::string& what) {
    if (crop.side < 1) reject("a positive side for " + what, std::to_string(crop.side));
    if (crop.output_size != output_size) reject("an output size of " + std::to_string(output_size) + " for " + what, std::to_string(crop.output_size));
  }

  ModelConfig config_;
  std::unique_ptr<Backend> backend_;
  std::shared_ptr<const DeviceWeights> weights_;  // after backend_: private weights release into it
  Encoder encoder_;
  Decoder decoder_;
  int slot_count_ = 0;
  size_t feature_size_ = 0;
  DeviceArray<float> features_, search_images_;
  DeviceArray<float> template_images_[2], template_tokens_[2];
  bool template_set_[2] = {false, false};
  std::vector<bool> slot_filled_;
};

}  // namespace

std::unique_ptr<Engine> create_backend_engine(std::unique_ptr<Backend> backend,
                                              std::shared_ptr<const WeightFile> weights) {
  if (!backend) throw std::invalid_argument("Expected a backend but received none");
  if (!weights) throw std::invalid_argument("Expected a weight file but received none");
  return std::make_unique<BackendEngine>(std::move(backend), *weights);
}

}  // namespace sctdiff
