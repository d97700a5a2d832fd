#include "network.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "batch_engine.h"

namespace sctdiff {

namespace {

// One stream of a BatchEngine (batch_engine.h): the single-tracker engine is the batch engine
// with every request a batch of one, so a lone engine and a group compute the same way.
class SingleStreamEngine final : public Engine {
 public:
  explicit SingleStreamEngine(std::unique_ptr<BatchEngine> inner) : inner_(std::move(inner)) {}

  const ModelConfig& config() const override { return inner_->config(); }
  std::string backend_name() const override { return inner_->backend_name(); }

  void set_template(int index, const FrameView& frame, const CropParams& crop) override {
    inner_->set_template(kStream, index, frame, crop);
  }

  void encode(const std::vector<FrameView>& frames, const std::vector<CropParams>& crops,
              const std::vector<int>& slots) override {
    inner_->encode_batch({StreamEncode{kStream, frames, crops, slots}});
  }

  DecodeOutput decode(const std::vector<int>& slots, const std::vector<int32_t>& tokens,
                      const std::vector<int32_t>& timesteps, uint64_t seed) override {
    return std::move(inner_->decode_batch({StreamDecode{kStream, slots, tokens, timesteps, seed}}).front());
  }

  std::vector<float> debug_preprocess(const FrameView& frame, const CropParams& crop) override {
    return inner_->debug_preprocess(frame, crop);
  }

  std::vector<float> debug_features(int slot) override { return inner_->debug_features(kStream, slot); }

  DecodeOutput debug_decode(const std::vector<int>& slots, const std::vector<int32_t>& tokens,
                            const std::vector<int32_t>& timesteps, uint64_t seed) override {
    return std::move(inner_->decode_batch({StreamDecode{kStream, slots, tokens, timesteps, seed}}, true).front());
  }

 private:
  static constexpr int kStream = 0;
  std::unique_ptr<BatchEngine> inner_;
};

}  // namespace

std::unique_ptr<Engine> create_backend_engine(std::unique_ptr<Backend> backend,
                                              std::shared_ptr<const WeightFile> weights) {
  return std::make_unique<SingleStreamEngine>(create_batch_engine(std::move(backend), std::move(weights)));
}

}  // namespace sctdiff
