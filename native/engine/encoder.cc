#include "encoder.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "device_weights.h"

namespace sctdiff {

Encoder::Encoder(Backend* backend, const ModelConfig& config, const DeviceWeights& weights)
    : backend_(backend), config_(config.encoder) {
  const int P = config_.patch;
  nz_ = (config_.template_size / P) * (config_.template_size / P);
  nx_ = (config_.search_size / P) * (config_.search_size / P);
  seq_ = 2 * nz_ + nx_;
  patch_w_ = weights.get("encoder.patch_embed.weight");
  patch_b_ = weights.get("encoder.patch_embed.bias");
  pos_z_ = weights.get("encoder.pos_embed_z");
  pos_x_ = weights.get("encoder.pos_embed_x");
  type_ = weights.get("encoder.type_embed");
  norm_w_ = weights.get("encoder.norm.weight");
  norm_b_ = weights.get("encoder.norm.bias");
  for (int i = 0; i < config_.depth; ++i) {
    const std::string p = "encoder.blocks." + std::to_string(i) + ".";
    blocks_.push_back(Block{weights.get(p + "norm1.weight"), weights.get(p + "norm1.bias"),
                            weights.get(p + "attn.qkv.weight"), weights.get(p + "attn.qkv.bias"),
                            weights.get(p + "attn.proj.weight"), weights.get(p + "attn.proj.bias"),
                            weights.get(p + "norm2.weight"), weights.get(p + "norm2.bias"),
                            weights.get(p + "mlp.fc1.weight"), weights.get(p + "mlp.fc1.bias"),
                            weights.get(p + "mlp.fc2.weight"), weights.get(p + "mlp.fc2.bias")});
  }
  reserve(1);
}

void Encoder::reserve(int count) {
  if (count <= capacity_) return;
  const size_t rows = static_cast<size_t>(count) * seq_;
  const size_t D = static_cast<size_t>(config_.dim), P = static_cast<size_t>(config_.patch);
  // Also holds one template's patches (embed_template), whatever the two crop sizes are.
  const size_t patch_rows = std::max(static_cast<size_t>(count) * nx_, static_cast<size_t>(nz_));
  patches_ = DeviceArray<float>(backend_, patch_rows * 3 * P * P);
  tokens_ = DeviceArray<float>(backend_, rows * D);
  normed_ = DeviceArray<float>(backend_, rows * D);
  qkv_ = DeviceArray<float>(backend_, rows * 3 * D);
  attn_ = DeviceArray<float>(backend_, rows * D);
  hidden_ = DeviceArray<float>(backend_, rows * static_cast<size_t>(config_.mlp));
  capacity_ = count;
}

void Encoder::embed_patches(int count, int size, const float* images, float* out, const RowLayout& out_layout,
                            const float* pos, int type_row) {
  const int D = config_.dim, P = config_.patch;
  const int64_t cols = 3LL * P * P;
  const int tokens = out_layout.rows;
  PatchifyParams patchify;
  patchify.batch = count;
  patchify.channels = 3;
  patchify.height = patchify.width = size;
  patchify.patch = P;
  patchify.in = images;
  patchify.out = patches_.data();
  backend_->patchify(patchify);

  GemmParams embed;
  embed.n = D;
  embed.k = static_cast<int>(cols);
  embed.a = patches_.data();
  embed.a_layout = RowLayout{count, tokens, cols, static_cast<int64_t>(tokens) * cols};
  embed.w = patch_w_;
  embed.ldw = cols;
  embed.bias = patch_b_;
  embed.c = out;
  embed.c_layout = out_layout;
  backend_->gemm(embed);

  AddRowsParams position;
  position.dim = D;
  position.table = pos;
  position.table_ld = D;
  position.out = out;
  position.out_layout = out_layout;
  backend_->add_rows(position);

  AddRowsParams type = position;
  type.table = type_ + static_cast<int64_t>(type_row) * D;
  type.table_ld = 0;
  backend_->add_rows(type);
}

void Encoder::embed_template(int index, const float* image, float* tokens) {
  embed_patches(1, config_.template_size, image, tokens, RowLayout::contiguous(nz_, config_.dim), pos_z_, index);
}

void Encoder::encode(int count, const float* search, const std::vector<TemplatePair>& templates,
                     const std::vector<float*>& outputs) {
  if (count <= 0) return;
  reserve(count);
  const int D = config_.dim, L = seq_;
  const int rows = count * L;
  float* tokens = tokens_.data();
  // Search tokens of frame b are rows [2Nz, L) of its group of L rows.
  const RowLayout search_rows{count, nx_, D, static_cast<int64_t>(L) * D};
  float* search_tokens = tokens + 2LL * nz_ * D;

  embed_patches(count, config_.search_size, search, search_tokens, search_rows, pos_x_, 2);

  // Each frame's two template token sets (its stream's) into rows [0, 2Nz) of its group: one
  // block copy for the whole batch.
  std::vector<const float*> sources;
  std::vector<float*> destinations;
  sources.reserve(2 * static_cast<size_t>(count));
  destinations.reserve(2 * static_cast<size_t>(count));
  for (int b = 0; b < count; ++b) {
    const TemplatePair& pair = templates[static_cast<size_t>(b)];
    sources.push_back(pair.z0);
    destinations.push_back(tokens + static_cast<int64_t>(b) * L * D);
    sources.push_back(pair.z1);
    destinations.push_back(tokens + (static_cast<int64_t>(b) * L + nz_) * D);
  }
  BlockCopyParams gather;
  gather.count = 2 * count;
  gather.elements = static_cast<int64_t>(nz_) * D;
  gather.sources = sources.data();
  gather.destinations = destinations.data();
  backend_->copy_blocks(gather);

  const RowLayout all = RowLayout::contiguous(rows, D);
  const int heads = config_.heads, head_dim = D / heads;
  for (const Block& block : blocks_) {
    LayerNormParams ln1;
    ln1.dim = D;
    ln1.x = tokens;
    ln1.x_layout = all;
    ln1.weight = block.norm1_w;
    ln1.bias = block.norm1_b;
    ln1.eps = config_.ln_eps;
    ln1.out = normed_.data();
    ln1.out_layout = all;
    backend_->layer_norm(ln1);

    GemmParams qkv;
    qkv.n = 3 * D;
    qkv.k = D;
    qkv.a = normed_.data();
    qkv.a_layout = all;
    qkv.w = block.qkv_w;
    qkv.ldw = D;
    qkv.bias = block.qkv_b;
    qkv.c = qkv_.data();
    qkv.c_layout = RowLayout::contiguous(rows, 3 * D);
    backend_->gemm(qkv);

    AttentionParams attention;
    attention.batch = count;
    attention.seq = L;
    attention.heads = heads;
    attention.head_dim = head_dim;
    attention.qkv = qkv_.data();
    attention.out = attn_.data();
    attention.scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    backend_->attention(attention);

    GemmParams proj;
    proj.n = D;
    proj.k = D;
    proj.a = attn_.data();
    proj.a_layout = all;
    proj.w = block.proj_w;
    proj.ldw = D;
    proj.bias = block.proj_b;
    proj.c = tokens;
    proj.c_layout = all;
    proj.beta = 1.0f;
    backend_->gemm(proj);

    LayerNormParams ln2 = ln1;
    ln2.weight = block.norm2_w;
    ln2.bias = block.norm2_b;
    backend_->layer_norm(ln2);

    GemmParams fc1;
    fc1.n = config_.mlp;
    fc1.k = D;
    fc1.a = normed_.data();
    fc1.a_layout = all;
    fc1.w = block.fc1_w;
    fc1.ldw = D;
    fc1.bias = block.fc1_b;
    fc1.act = Activation::kGelu;
    fc1.c = hidden_.data();
    fc1.c_layout = RowLayout::contiguous(rows, config_.mlp);
    backend_->gemm(fc1);

    GemmParams fc2;
    fc2.n = D;
    fc2.k = config_.mlp;
    fc2.a = hidden_.data();
    fc2.a_layout = RowLayout::contiguous(rows, config_.mlp);
    fc2.w = block.fc2_w;
    fc2.ldw = config_.mlp;
    fc2.bias = block.fc2_b;
    fc2.c = tokens;
    fc2.c_layout = all;
    fc2.beta = 1.0f;
    backend_->gemm(fc2);
  }

  // The final norm of every frame's search tokens in one op, into `normed_` (free after the last
  // block), then one block copy to the frames' outputs. Writing each output directly would take
  // one norm per frame whose destination (a stream's feature slot) is part of the op: a batch
  // of other streams, or the same stream one step later, would then be a different CUDA graph.
  const int64_t feature_elements = static_cast<int64_t>(nx_) * D;
  LayerNormParams norm;
  norm.dim = D;
  norm.x = search_tokens;
  norm.x_layout = search_rows;
  norm.weight = norm_w_;
  norm.bias = norm_b_;
  norm.eps = config_.ln_eps;
  norm.out = normed_.data();
  norm.out_layout = RowLayout{count, nx_, D, feature_elements};
  backend_->layer_norm(norm);

  sources.clear();
  destinations.clear();
  for (int b = 0; b < count; ++b) {
    sources.push_back(normed_.data() + b * feature_elements);
    destinations.push_back(outputs[static_cast<size_t>(b)]);
  }
  BlockCopyParams scatter;
  scatter.count = count;
  scatter.elements = feature_elements;
  scatter.sources = sources.data();
  scatter.destinations = destinations.data();
  backend_->copy_blocks(scatter);
}

}  // namespace sctdiff
