// libFuzzer target: arbitrary text as the model config JSON of the metadata. parse_model_config
// must either return a config that passes validate_model_config and yields a tensor list, or
// throw std::invalid_argument naming a field; anything else is a bug. Build and run with
// fuzz/run.sh config.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "../native/engine/model_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const sctdiff::ModelConfig config = sctdiff::parse_model_config(text);
    sctdiff::validate_model_config(config);  // an accepted config must stay valid
    // Huge-but-valid configs are fine to describe; expected_tensors must not overflow or hang
    // (depth and blocks are bounded by the parser).
    if (config.encoder.depth <= 64 && config.decoder.blocks <= 64) {
      for (const auto& spec : sctdiff::expected_tensors(config)) {
        for (int64_t extent : spec.shape) {
          if (extent <= 0) std::abort();  // a valid config must give positive extents
        }
      }
    }
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    if (message.find(": ") == std::string::npos) std::abort();  // "<field>: <reason>"
  }
  return 0;
}
