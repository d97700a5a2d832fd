// The backend-neutral engine API that the N-API binding drives. One Engine owns one loaded
// model and its feature slots; it is not thread-safe (the binding serializes calls on the
// engine's own worker thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config.h"

namespace sctdiff {

enum class PixelFormat { kRGB, kBGR, kRGBA, kGray };

// A borrowed view of an 8-bit frame; `stride` is bytes between row starts. The binding has
// validated that stride * (height - 1) + width * channels <= the buffer's length.
struct FrameView {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int stride = 0;
  PixelFormat format = PixelFormat::kRGB;
};

// sample_target's square crop: image region [x0, x0 + side)^2 resized to output_size^2,
// zero outside the image. See lib/geometry.
struct CropParams {
  int x0 = 0;
  int y0 = 0;
  int side = 1;
  int output_size = 1;
};

struct DecodeOutput {
  std::vector<int32_t> tokens;  // 4 per frame: x1, y1, x2, y2
  std::vector<float> scores;    // top-1 probability of each token
  std::vector<float> logits;    // [frames, 6, vocab]; filled by debug_decode only
};

class WeightFile;  // weights.h

class Engine {
 public:
  virtual ~Engine() = default;
  virtual const ModelConfig& config() const = 0;
  virtual std::string backend_name() const = 0;
  // Preprocess and keep template `index` (0 initial, 1 dynamic).
  virtual void set_template(int index, const FrameView& frame, const CropParams& crop) = 0;
  // Encode frames with the current templates into feature slots (0 <= slot < 2 * clip_len).
  virtual void encode(const std::vector<FrameView>& frames, const std::vector<CropParams>& crops,
                      const std::vector<int>& slots) = 0;
  // Decode a window: slots oldest first, 4 prior tokens and one timestep per frame.
  virtual DecodeOutput decode(const std::vector<int>& slots, const std::vector<int32_t>& tokens,
                              const std::vector<int32_t>& timesteps, uint64_t seed) = 0;

  // Parity checks and debugging (the binding exposes these as _debug* methods; see
  // native/binding/NOTES.md). They validate like the methods above.
  // The crop exactly as the encoder sees it: [3, output_size, output_size] float32, RGB,
  // normalized, channels-first.
  virtual std::vector<float> debug_preprocess(const FrameView& frame, const CropParams& crop) = 0;
  // The encoder features stored in a slot: [Hs * Ws, D] float32 (row = raster position).
  virtual std::vector<float> debug_features(int slot) = 0;
  // decode() that also returns the logits [frames, 6, vocab] (all six slots of each frame).
  virtual DecodeOutput debug_decode(const std::vector<int>& slots, const std::vector<int32_t>& tokens,
                                    const std::vector<int32_t>& timesteps, uint64_t seed) = 0;
};

// The CPU engine (native/cpu). `threads` <= 0 means one per core.
std::unique_ptr<Engine> create_cpu_engine(std::shared_ptr<const WeightFile> weights, int threads);

}  // namespace sctdiff
