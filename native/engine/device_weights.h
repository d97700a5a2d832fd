// Every weight of a model file as float32 in device (or host) memory, read-only once built, so
// one set can serve every engine of the same model (weight_cache.h).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "device_allocator.h"
#include "tensor.h"

namespace sctdiff {

class WeightFile;  // weights.h

// The weights with the layout changes the forward pass wants made once at load time:
//  - decoder.blocks.{b}.vis_proj.weight [d, D, 1, s, s] is stored as [d, s, s, D] so it
//    multiplies channels-last feature patches;
//  - A_log / A_b_log are stored as A = -exp(A_log) under the names `<prefix>.A` / `<prefix>.A_b`.
class DeviceWeights {
 public:
  // Converts and uploads every tensor of `file` into memory from `allocator`. The weights hold
  // the allocator, so they depend on no Backend instance; once built they need the file no more.
  DeviceWeights(std::shared_ptr<DeviceAllocator> allocator, const WeightFile& file);
  DeviceWeights(const DeviceWeights&) = delete;
  DeviceWeights& operator=(const DeviceWeights&) = delete;

  // Throws std::out_of_range naming the weight when it is missing.
  const float* get(const std::string& name) const;
  // Bytes of weight memory held.
  size_t bytes() const { return bytes_; }

 private:
  // Declared before the arrays, so it is destroyed after them: they release into it.
  std::shared_ptr<DeviceAllocator> allocator_;
  std::map<std::string, DeviceArray<float>> arrays_;
  size_t bytes_ = 0;
};

}  // namespace sctdiff
