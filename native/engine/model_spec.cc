// The weight list of docs/model-contract.md, generated from a config. The weight loader
// compares a file against it, and the engines rely on it: any tensor they read exists with
// exactly this shape.
#include "model_spec.h"

namespace sctdiff {
namespace {

void add(std::vector<TensorSpec>& specs, std::string name, std::vector<int64_t> shape) {
  specs.push_back(TensorSpec{std::move(name), std::move(shape)});
}

// Bidirectional Mamba (Vision Mamba v2) weights under `prefix` (docs/model-contract.md, "BiMamba").
void add_bimamba(std::vector<TensorSpec>& specs, const std::string& prefix, const DecoderConfig& d) {
  const int64_t width = d.dim;
  const int64_t inner = static_cast<int64_t>(d.expand) * d.dim;
  const int64_t rank = d.dt_rank, state = d.d_state, kernel = d.d_conv;
  add(specs, prefix + ".in_proj.weight", {2 * inner, width});
  add(specs, prefix + ".out_proj.weight", {width, inner});
  for (const std::string suffix : {"", "_b"}) {
    add(specs, prefix + ".conv1d" + suffix + ".weight", {inner, 1, kernel});
    add(specs, prefix + ".conv1d" + suffix + ".bias", {inner});
    add(specs, prefix + ".x_proj" + suffix + ".weight", {rank + 2 * state, inner});
    add(specs, prefix + ".dt_proj" + suffix + ".weight", {inner, rank});
    add(specs, prefix + ".dt_proj" + suffix + ".bias", {inner});
  }
  add(specs, prefix + ".A_log", {inner, state});
  add(specs, prefix + ".A_b_log", {inner, state});
  add(specs, prefix + ".D", {inner});
  add(specs, prefix + ".D_b", {inner});
}

}  // namespace

std::vector<TensorSpec> expected_tensors(const ModelConfig& config) {
  const EncoderConfig& e = config.encoder;
  const DecoderConfig& d = config.decoder;
  const int64_t D = e.dim, P = e.patch, M = e.mlp;
  const int64_t template_grid = e.template_size / e.patch, search_grid = e.search_size / e.patch;
  const int64_t Nz = template_grid * template_grid, Nx = search_grid * search_grid;
  const int64_t width = d.dim, stride = d.vis_stride;
  const int64_t visual_grid = search_grid / stride;

  std::vector<TensorSpec> specs;
  add(specs, "encoder.patch_embed.weight", {D, 3, P, P});
  add(specs, "encoder.patch_embed.bias", {D});
  add(specs, "encoder.pos_embed_z", {Nz, D});
  add(specs, "encoder.pos_embed_x", {Nx, D});
  add(specs, "encoder.type_embed", {3, D});
  for (int i = 0; i < e.depth; ++i) {
    const std::string block = "encoder.blocks." + std::to_string(i);
    add(specs, block + ".norm1.weight", {D});
    add(specs, block + ".norm1.bias", {D});
    add(specs, block + ".attn.qkv.weight", {3 * D, D});
    add(specs, block + ".attn.qkv.bias", {3 * D});
    add(specs, block + ".attn.proj.weight", {D, D});
    add(specs, block + ".attn.proj.bias", {D});
    add(specs, block + ".norm2.weight", {D});
    add(specs, block + ".norm2.bias", {D});
    add(specs, block + ".mlp.fc1.weight", {M, D});
    add(specs, block + ".mlp.fc1.bias", {M});
    add(specs, block + ".mlp.fc2.weight", {D, M});
    add(specs, block + ".mlp.fc2.bias", {D});
  }
  add(specs, "encoder.norm.weight", {D});
  add(specs, "encoder.norm.bias", {D});

  add(specs, "decoder.traj_embed.weight", {config.tokens.vocab, width});
  add(specs, "decoder.head_bias", {config.tokens.vocab});
  add(specs, "decoder.pos2d", {visual_grid * visual_grid, width});
  add(specs, "decoder.pos1d", {6, width});
  add(specs, "decoder.temporal", {d.clip_len, width});
  add(specs, "decoder.time_embed.fc1.weight", {width, width});
  add(specs, "decoder.time_embed.fc1.bias", {width});
  add(specs, "decoder.time_embed.fc2.weight", {width, width});
  add(specs, "decoder.time_embed.fc2.bias", {width});
  for (int b = 0; b < d.blocks; ++b) {
    const std::string block = "decoder.blocks." + std::to_string(b);
    add(specs, block + ".vis_proj.weight", {width, D, 1, stride, stride});
    add(specs, block + ".vis_proj.bias", {width});
    add(specs, block + ".vis_norm.weight", {width});
    add(specs, block + ".lang_norm.weight", {width});
    add(specs, block + ".fuse_norm.weight", {width});
    add_bimamba(specs, block + ".vis_mamba", d);
    add_bimamba(specs, block + ".lang_mamba", d);
    add_bimamba(specs, block + ".fuse_mamba", d);
  }
  add(specs, "decoder.norm_f.weight", {width});
  return specs;
}

}  // namespace sctdiff
