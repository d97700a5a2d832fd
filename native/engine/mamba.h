// The decoder's residual bidirectional Mamba branch (Vision Mamba v2, docs/model-contract.md
// "BiMamba"): stream += out_proj((y_fwd + reverse(y_bwd)) / 2) of RMSNorm(stream), where the
// sequence is the rows of `layout` in order (batch-major), e.g. the visual rows of every frame.
#pragma once

#include <string>

#include "backend.h"
#include "config.h"
#include "tensor.h"

namespace sctdiff {

class DeviceWeights;

struct BiMambaWeights {
  const float* norm = nullptr;      // RMSNorm weight [d]
  const float* in_proj = nullptr;   // [2E, d]
  const float* out_proj = nullptr;  // [d, E]
  struct Direction {
    const float* conv_weight = nullptr;  // [E, K]
    const float* conv_bias = nullptr;    // [E]
    const float* x_proj = nullptr;       // [R + 2Ns, E]
    const float* dt_proj = nullptr;      // [E, R]
    const float* dt_bias = nullptr;      // [E]
    const float* a = nullptr;            // [E, Ns], -exp(A_log)
    const float* d = nullptr;            // [E]
  } forward, backward;

  static BiMambaWeights load(const DeviceWeights& weights, const std::string& prefix, const std::string& norm_name);
};

// Scratch memory of one BiMamba branch for sequences of up to `max_seq` tokens.
class BiMambaRunner {
 public:
  BiMambaRunner(Backend* backend, const DecoderConfig& config, int max_seq);
  // stream rows (per `layout`) += BiMamba(RMSNorm(rows)).
  void run(const BiMambaWeights& w, float* stream, const RowLayout& layout);

 private:
  void direction(const BiMambaWeights::Direction& w, int seq, bool reverse);

  Backend* backend_;
  DecoderConfig config_;
  int inner_ = 0, max_seq_ = 0;
  DeviceArray<float> normed_, xz_, conv_, dbc_, delta_, y_;
};

}  // namespace sctdiff
