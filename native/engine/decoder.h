// The diffusion decoder (docs/model-contract.md "Decoder"): the visual stream V [n, Hv·Wv, d]
// and the trajectory stream S [n, 6, d] live in ONE buffer in the fused scan's order
// [V_1 S_1 V_2 S_2 ...], so the interleaved bimodal scan needs no copies: the vision and
// language experts address their rows through strided RowLayouts, the fusion expert sees the
// buffer as one contiguous sequence.
#pragma once

#include <cstdint>
#include <vector>

#include "backend.h"
#include "config.h"
#include "mamba.h"
#include "tensor.h"

namespace sctdiff {

class DeviceWeights;

struct DecoderInput {
  std::vector<const float*> features;  // per frame, oldest first: [Hs·Ws, D] in backend memory
  std::vector<int32_t> tokens;         // 4 per frame (x1, y1, x2, y2)
  std::vector<int32_t> timesteps;      // per frame
  uint64_t seed = 0;
};

class Decoder {
 public:
  Decoder(Backend* backend, const ModelConfig& config, const DeviceWeights& weights);

  // Runs the decoder; afterwards tokens()/scores() read back 4 per frame and logits() reads
  // back [frames, 6, vocab] (valid until the next call).
  void run(const DecoderInput& input);
  // Runs `windows.size()` windows of one frame count (a batch of streams' windows) as one pass:
  // every row-wise op sees all windows' rows, the Mamba scans run one sequence per window, and
  // each window keeps its own seed, timesteps and temporal positions. tokens()/scores()/logits()
  // then read back all windows' frames in order (pass the total frame count).
  void run_batch(const std::vector<DecoderInput>& windows);
  std::vector<int32_t> tokens(int frames) const;
  std::vector<float> scores(int frames) const;
  std::vector<float> logits(int frames) const;

 private:
  struct Block {
    const float *vis_proj_w, *vis_proj_b;
    BiMambaWeights vis, lang, fuse;
  };

  // Grows the per-call buffers to hold `windows` full windows.
  void reserve(int windows);

  Backend* backend_;
  ModelConfig config_;
  int capacity_ = 0;  // windows the buffers hold
  std::vector<double> alphas_cumprod_;
  int grid_ = 0, visual_tokens_ = 0, group_rows_ = 0;  // Hv, Hv·Wv, Hv·Wv + 6
  const float *traj_embed_, *head_bias_, *pos2d_, *pos1d_, *temporal_;
  const float *time_fc1_w_, *time_fc1_b_, *time_fc2_w_, *time_fc2_b_, *norm_f_;
  std::vector<Block> blocks_;
  BiMambaRunner mamba_;
  DeviceArray<float> stream_, patches_, time_sin_, time_hidden_, time_emb_, normed_, logits_;
  DeviceArray<float> signal_, noise_, scores_;
  DeviceArray<int32_t> slot_tokens_, timesteps_, top_tokens_;
};

}  // namespace sctdiff
