#include "device_weights.h"

#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include "weights.h"

namespace sctdiff {

DeviceWeights::DeviceWeights(std::shared_ptr<DeviceAllocator> allocator, const WeightFile& file)
    : allocator_(std::move(allocator)) {
  if (!allocator_) throw std::invalid_argument("Expected an allocator for the weights but received none");
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
    bytes_ += values.size() * sizeof(float);
    arrays_.emplace(stored, DeviceArray<float>(allocator_.get(), values));
  }
}

const float* DeviceWeights::get(const std::string& name) const {
  auto it = arrays_.find(name);
  if (it == arrays_.end()) throw std::out_of_range("Missing weight " + name);
  return it->second.data();
}

}  // namespace sctdiff
