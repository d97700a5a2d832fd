// The one-stream ViT encoder (OSTrack, docs/model-contract.md "Encoder"): tokens
// [z0 | z1 | x] of two templates and a search crop go through pre-norm transformer blocks;
// the final LayerNorm'ed search tokens are the frame's features [Hs·Ws, D].
#pragma once

#include <vector>

#include "backend.h"
#include "config.h"
#include "tensor.h"

namespace sctdiff {

class DeviceWeights;

class Encoder {
 public:
  Encoder(Backend* backend, const ModelConfig& config, const DeviceWeights& weights);

  // Template `index` (0 initial, 1 dynamic) from its preprocessed crop [3, T, T] to its input
  // tokens [Nz, D]: patch embedding + pos_embed_z + type_embed[index].
  void embed_template(int index, const float* image, float* tokens);

  // The two template token sets [Nz, D] (from embed_template) a search crop is encoded with.
  struct TemplatePair {
    const float* z0 = nullptr;
    const float* z1 = nullptr;
  };

  // Encodes `count` preprocessed search crops [count, 3, S, S], crop i with templates[i] (frames
  // of several streams in one batch: the GEMMs see all their rows, attention stays per frame);
  // the features of frame i go to outputs[i] ([Nx, D]).
  void encode(int count, const float* search, const std::vector<TemplatePair>& templates,
              const std::vector<float*>& outputs);

  int template_tokens() const { return nz_; }
  int search_tokens() const { return nx_; }

 private:
  struct Block {
    const float *norm1_w, *norm1_b, *qkv_w, *qkv_b, *proj_w, *proj_b;
    const float *norm2_w, *norm2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
  };
  void reserve(int count);
  // Patch embedding of `count` crops [3, size, size] into the token rows `out_layout` of `out`,
  // plus the position table `pos` ([tokens, D]) and type_embed[type_row]: the part of the input
  // sequence that templates and search crops share.
  void embed_patches(int count, int size, const float* images, float* out, const RowLayout& out_layout,
                     const float* pos, int type_row);

  Backend* backend_;
  EncoderConfig config_;
  int nz_ = 0, nx_ = 0, seq_ = 0;
  const float *patch_w_, *patch_b_, *pos_z_, *pos_x_, *type_, *norm_w_, *norm_b_;
  std::vector<Block> blocks_;
  int capacity_ = 0;
  DeviceArray<float> patches_, tokens_, normed_, qkv_, attn_, hidden_;
};

}  // namespace sctdiff
