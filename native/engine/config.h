// The model configuration stored as JSON in the weight file's metadata (docs/model.md).
#pragma once

#include <string>

namespace sctdiff {

struct EncoderConfig {
  int patch = 16, dim = 0, depth = 0, heads = 0, mlp = 0;
  int search_size = 0, template_size = 0;
  float search_factor = 4.0f, template_factor = 2.0f, ln_eps = 1e-6f;
};

struct DecoderConfig {
  int dim = 0, blocks = 0, d_state = 16, d_conv = 4, expand = 2, dt_rank = 0;
  int vis_stride = 2, clip_len = 6;
  float rms_eps = 1e-5f;
};

struct TokenConfig {
  int bins = 400, vocab = 802, begin = 800, end = 801;
  float range_min = -0.5f, range_max = 1.5f;
};

struct DiffusionConfig {
  int T = 1000, t_new = 999, t_refine = 500;
  double s = 0.008;
};

struct ModelConfig {
  std::string name;
  EncoderConfig encoder;
  DecoderConfig decoder;
  TokenConfig tokens;
  DiffusionConfig diffusion;
  float mean[3] = {0.485f, 0.456f, 0.406f};
  float std[3] = {0.229f, 0.224f, 0.225f};
};

}  // namespace sctdiff
