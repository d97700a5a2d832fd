#include "network.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "decoder.h"
#include "encoder.h"
#include "weights.h"

namespace sctdiff {

// ---------------------------------------------------------------------------------------------
// Weights

DeviceWeights::DeviceWeights(Backend* backend, const WeightFile& file) {
  const std::string a_suffix = ".A_log", a_b_suffix = ".A_b_log";
  auto ends_with = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  for (const auto& [name, info] : file.tensors()) {
    std::vector<float> values = file.to_float32(name);
    std::string stored = name;
    if (ends_with(name, ".vis_proj.weight") && info.shape.size() == 5) {
      // [d, D, 1, s, s] -> [d, s, s, D]: the GEMM reads channels-last feature patches.
      const int64_t d = info.shape[0], D = info.shape[1], s = info.shape[3];
      std::vector<float> permuted(values.size());
      for (int64_t o = 0; o < d; ++o)
        for (int64_t c = 0; c < D; ++c)
          for (int64_t ky = 0; ky < s; ++ky)
            for (int64_t kx = 0; kx < s; ++kx)
              permuted[((o * s + ky) * s + kx) * D + c] = values[((o * D + c) * s + ky) * s + kx];
      values.swap(permuted);
    } else if (ends_with(name, a_b_suffix) || ends_with(name, a_suffix)) {
      // A = -exp(A_log) once, in float32 like the reference.
      for (float& v : values) v = -std::exp(v);
      stored = name.substr(0, name.size() - 4);  // ".A_log" -> ".A", ".A_b_log" -> ".A_b"
    }
    arrays_.emplace(stored, DeviceArray<float>(backend, values));
  }
}

const float* DeviceWeights::get(const std::string& name) const {
  auto it = arrays_.find(name);
  if (it == arrays_.end()) throw std::out_of_range("Missing weight " + name);
  return it->second.data();
}

// ---------------------------------------------------------------------------------------------
// Engine

namespace {

[[noreturn]] void reject(const std::string& expected, const std::string& received) {
  throw std::invalid_argument("Expected " + expected + " but received " + received);
}

class BackendEngine final : public Engine {
 public:
  BackendEngine(std::unique_ptr<Backend> backend, std::shared_ptr<const WeightFile> file)
      : file_(std::move(file)),
        config_(file_->config()),
        backend_(std::move(backend)),
        weights_(backend_.get(), *file_),
        encoder_(backend_.get(), config_, weights_),
        decoder_(backend_.get(), config_, weights_) {
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

  std::shared_ptr<const WeightFile> file_;
  ModelConfig config_;
  std::unique_ptr<Backend> backend_;
  DeviceWeights weights_;
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
  return std::make_unique<BackendEngine>(std::move(backend), std::move(weights));
}

}  // namespace sctdiff
