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

// Scratch memory of one BiMamba branch for up to `max_rows` tokens in all (grown by reserve()).
class BiMambaRunner {
 public:
  BiMambaRunner(Backend* backend, const DecoderConfig& config, int max_rows);
  // Makes room for `rows` tokens in all (e.g. a batch of streams' windows).
  void reserve(int rows);
  // stream rows (per `layout`) += BiMamba(RMSNorm(rows)). The rows form `sequences` independent
  // sequences of equal length, in order (a batch of streams' windows): the scans and convs
  // restart at each one's start, every other op is per row.
  void run(const BiMambaWeights& w, float* stream, const RowLayout& layout, int sequences = 1);

 private:
  void direction(const BiMambaWeights::Direction& w, int rows, int sequences, bool reverse);

  Backend* backend_;
  DecoderConfig config_;
  int inner_ = 0, max_rows_ = 0;
  DeviceArray<float> normed_, xz_, conv_, dbc_, delta_, y_;
};

}  // namespace sctdiff
