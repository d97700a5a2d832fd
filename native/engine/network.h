// The network's forward pass, written once against the Backend interface: the weights in
// backend memory, and an Engine (engine.h) that runs preprocessing, the encoder and the decoder
// on any backend. Backends only add a factory (create_cpu_engine in native/cpu, CUDA later).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "backend.h"
#include "engine.h"
#include "tensor.h"

namespace sctdiff {

// Every weight of the file as float32 in backend memory, with the layout changes the forward
// pass wants made once at load time:
//  - decoder.blocks.{b}.vis_proj.weight [d, D, 1, s, s] is stored as [d, s, s, D] so it
//    multiplies channels-last feature patches;
//  - A_log / A_b_log are stored as A = -exp(A_log) under the names `<prefix>.A` / `<prefix>.A_b`.
class DeviceWeights {
 public:
  DeviceWeights(Backend* backend, const WeightFile& file);
  // Throws std::out_of_range naming the weight when it is missing.
  const float* get(const std::string& name) const;

 private:
  std::map<std::string, DeviceArray<float>> arrays_;
};

// An Engine over any backend. Takes ownership of the backend.
std::unique_ptr<Engine> create_backend_engine(std::unique_ptr<Backend> backend,
                                              std::shared_ptr<const WeightFile> weights);

}  // namespace sctdiff
