// libFuzzer target: arbitrary bytes as a weight file. WeightFile::from_bytes must either
// accept the bytes or throw ModelLoadError; any crash, sanitizer report, other exception or
// out-of-bounds tensor is a bug. Build and run with fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "../native/engine/errors.h"
#include "../native/engine/weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto file = sctdiff::WeightFile::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz");
    // An accepted file must expose only in-bounds tensors: touch every byte of each one.
    float sink = 0;
    for (const auto& entry : file->tensors()) {
      const std::vector<float> values = file->to_float32(entry.first);
      for (float value : values) sink += value;
    }
    volatile float keep = sink;
    (void)keep;
  } catch (const sctdiff::ModelLoadError&) {
    // Rejected with a typed error: the expected outcome for almost every input.
  }
  return 0;
}
