#include "decoder.h"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "device_weights.h"
#include "schedule.h"

namespace sctdiff {

Decoder::Decoder(Backend* backend, const ModelConfig& config, const DeviceWeights& weights)
    : backend_(backend),
      config_(config),
      alphas_cumprod_(cosine_alphas_cumprod(config.diffusion.T, config.diffusion.s)),
      grid_(config.encoder.search_size / config.encoder.patch / config.decoder.vis_stride),
      visual_tokens_(grid_ * grid_),
      group_rows_(visual_tokens_ + 6),
      mamba_(backend, config.decoder, config.decoder.clip_len * (grid_ * grid_ + 6)) {
  traj_embed_ = weights.get("decoder.traj_embed.weight");
  head_bias_ = weights.get("decoder.head_bias");
  pos2d_ = weights.get("decoder.pos2d");
  pos1d_ = weights.get("decoder.pos1d");
  temporal_ = weights.get("decoder.temporal");
  time_fc1_w_ = weights.get("decoder.time_embed.fc1.weight");
  time_fc1_b_ = weights.get("decoder.time_embed.fc1.bias");
  time_fc2_w_ = weights.get("decoder.time_embed.fc2.weight");
  time_fc2_b_ = weights.get("decoder.time_embed.fc2.bias");
  norm_f_ = weights.get("decoder.norm_f.weight");
  for (int b = 0; b < config.decoder.blocks; ++b) {
    const std::string p = "decoder.blocks." + std::to_string(b) + ".";
    blocks_.push_back(Block{weights.get(p + "vis_proj.weight"), weights.get(p + "vis_proj.bias"),
                            BiMambaWeights::load(weights, p + "vis_mamba", p + "vis_norm.weight"),
                            BiMambaWeights::load(weights, p + "lang_mamba", p + "lang_norm.weight"),
                            BiMambaWeights::load(weights, p + "fuse_mamba", p + "fuse_norm.weight")});
  }
  reserve(1);
}

void Decoder::reserve(int windows) {
  if (windows <= capacity_) return;
  const size_t n = static_cast<size_t>(config_.decoder.clip_len) * static_cast<size_t>(windows);
  const size_t d = static_cast<size_t>(config_.decoder.dim);
  const size_t D = static_cast<size_t>(config_.encoder.dim);
  const size_t s = static_cast<size_t>(config_.decoder.vis_stride);
  const size_t vocab = static_cast<size_t>(config_.tokens.vocab);
  Backend* backend = backend_;
  mamba_.reserve(static_cast<int>(n) * group_rows_);
  stream_ = DeviceArray<float>(backend, n * static_cast<size_t>(group_rows_) * d);
  patches_ = DeviceArray<float>(backend, n * static_cast<size_t>(visual_tokens_) * D * s * s);
  time_sin_ = DeviceArray<float>(backend, n * d);
  time_hidden_ = DeviceArray<float>(backend, n * d);
  time_emb_ = DeviceArray<float>(backend, n * d);
  normed_ = DeviceArray<float>(backend, n * 6 * d);
  logits_ = DeviceArray<float>(backend, n * 6 * vocab);
  signal_ = DeviceArray<float>(backend, n);
  noise_ = DeviceArray<float>(backend, n);
  scores_ = DeviceArray<float>(backend, n * 4);
  slot_tokens_ = DeviceArray<int32_t>(backend, n * 6);
  timesteps_ = DeviceArray<int32_t>(backend, n);
  top_tokens_ = DeviceArray<int32_t>(backend, n * 4);
  capacity_ = windows;
}

void Decoder::run(const DecoderInput& input) { run_batch({input}); }

void Decoder::run_batch(const std::vector<DecoderInput>& windows) {
  if (windows.empty()) return;
  const int count = static_cast<int>(windows.size());
  const int window_frames = static_cast<int>(windows[0].features.size());
  for (const DecoderInput& w : windows) {
    if (static_cast<int>(w.features.size()) != window_frames) throw std::logic_error("decoder batch of windows of different lengths");
  }
  reserve(count);
  const int frames = count * window_frames;  // all windows' frames, window-major
  const int d = config_.decoder.dim, D = config_.encoder.dim, s = config_.decoder.vis_stride;
  const int vocab = config_.tokens.vocab, P = visual_tokens_, G = group_rows_;
  const int64_t patch_cols = static_cast<int64_t>(D) * s * s;

  // Small per-call inputs: slot tokens [Begin, x1, y1, x2, y2, End], timesteps, noise scales.
  std::vector<int32_t> slot_tokens(static_cast<size_t>(frames) * 6), timesteps(static_cast<size_t>(frames));
  std::vector<float> signal(static_cast<size_t>(frames)), noise(static_cast<size_t>(frames));
  for (int f = 0; f < frames; ++f) {
    const DecoderInput& input = windows[static_cast<size_t>(f / window_frames)];
    const size_t local = static_cast<size_t>(f % window_frames);
    slot_tokens[static_cast<size_t>(f) * 6] = config_.tokens.begin;
    for (int j = 0; j < 4; ++j) slot_tokens[static_cast<size_t>(f) * 6 + 1 + j] = input.tokens[local * 4 + static_cast<size_t>(j)];
    slot_tokens[static_cast<size_t>(f) * 6 + 5] = config_.tokens.end;
    timesteps[static_cast<size_t>(f)] = input.timesteps[local];
    const double abar = alphas_cumprod_[static_cast<size_t>(input.timesteps[local])];
    signal[static_cast<size_t>(f)] = static_cast<float>(std::sqrt(abar));
    noise[static_cast<size_t>(f)] = static_cast<float>(std::sqrt(1.0 - abar));
  }
  backend_->upload(slot_tokens_.data(), slot_tokens.data(), slot_tokens.size() * sizeof(int32_t));
  backend_->upload(timesteps_.data(), timesteps.data(), timesteps.size() * sizeof(int32_t));
  backend_->upload(signal_.data(), signal.data(), signal.size() * sizeof(float));
  backend_->upload(noise_.data(), noise.data(), noise.size() * sizeof(float));

  // Timestep embedding: sinusoid -> fc1 -> SiLU -> fc2.
  TimestepEmbedParams sinusoid;
  sinusoid.count = frames;
  sinusoid.dim = d;
  sinusoid.timesteps = timesteps_.data();
  sinusoid.out = time_sin_.data();
  backend_->timestep_embed(sinusoid);
  GemmParams fc1;
  fc1.n = d;
  fc1.k = d;
  fc1.a = time_sin_.data();
  fc1.a_layout = RowLayout::contiguous(frames, d);
  fc1.w = time_fc1_w_;
  fc1.ldw = d;
  fc1.bias = time_fc1_b_;
  fc1.act = Activation::kSilu;
  fc1.c = time_hidden_.data();
  fc1.c_layout = RowLayout::contiguous(frames, d);
  backend_->gemm(fc1);
  GemmParams fc2 = fc1;
  fc2.a = time_hidden_.data();
  fc2.w = time_fc2_w_;
  fc2.bias = time_fc2_b_;
  fc2.act = Activation::kNone;
  fc2.c = time_emb_.data();
  backend_->gemm(fc2);

  float* stream = stream_.data();
  const RowLayout visual_rows{frames, P, d, static_cast<int64_t>(G) * d};
  const RowLayout trajectory_rows{frames, 6, d, static_cast<int64_t>(G) * d};
  float* trajectory = stream + static_cast<int64_t>(P) * d;

  // The inputs that depend on a frame's position in its own window (the noise of the window's
  // seed, the temporal embedding): one op each for all windows.
  std::vector<uint64_t> seeds;
  seeds.reserve(windows.size());
  for (const DecoderInput& w : windows) seeds.push_back(w.seed);
  TrajectoryInputParams traj;
  traj.windows = count;
  traj.frames = window_frames;
  traj.dim = d;
  traj.tokens = slot_tokens_.data();
  traj.table = traj_embed_;
  traj.signal = signal_.data();
  traj.noise = noise_.data();
  traj.seeds = seeds.data();
  traj.pos1d = pos1d_;
  traj.temporal = temporal_;
  traj.time_emb = time_emb_.data();
  traj.out = trajectory;
  traj.out_layout = trajectory_rows;
  backend_->trajectory_input(traj);

  AddRowsParams visual;
  visual.dim = d;
  visual.table = pos2d_;
  visual.table_ld = d;
  visual.per_batch = temporal_;
  visual.per_batch_ld = d;
  visual.per_batch_period = window_frames;
  visual.out = stream;
  visual.out_layout = visual_rows;
  visual.overwrite = true;
  backend_->add_rows(visual);

  // Feature patches for the Conv3d projections (shared by all blocks), frames in window order.
  // Streams keep their features in separate allocations: offsets are taken as addresses.
  const int Hs = config_.encoder.search_size / config_.encoder.patch;
  const float* base = windows[0].features[0];
  std::vector<int64_t> offsets(static_cast<size_t>(frames));
  for (int f = 0; f < frames; ++f) {
    const float* feature = windows[static_cast<size_t>(f / window_frames)].features[static_cast<size_t>(f % window_frames)];
    offsets[static_cast<size_t>(f)] =
        (reinterpret_cast<intptr_t>(feature) - reinterpret_cast<intptr_t>(base)) / static_cast<intptr_t>(sizeof(float));
  }
  PatchifyParams patchify;
  patchify.batch = frames;
  patchify.channels = D;
  patchify.height = patchify.width = Hs;
  patchify.patch = s;
  patchify.channels_last = true;
  patchify.in = base;
  patchify.batch_offsets = offsets.data();
  patchify.out = patches_.data();
  backend_->patchify(patchify);

  for (const Block& block : blocks_) {
    GemmParams vis_proj;
    vis_proj.n = d;
    vis_proj.k = static_cast<int>(patch_cols);
    vis_proj.a = patches_.data();
    vis_proj.a_layout = RowLayout{frames, P, patch_cols, static_cast<int64_t>(P) * patch_cols};
    vis_proj.w = block.vis_proj_w;
    vis_proj.ldw = patch_cols;
    vis_proj.bias = block.vis_proj_b;
    vis_proj.c = stream;
    vis_proj.c_layout = visual_rows;
    vis_proj.beta = 1.0f;
    backend_->gemm(vis_proj);

    // One sequence per window: a window's visual (or trajectory, or fused) rows in order.
    mamba_.run(block.vis, stream, visual_rows, count);
    mamba_.run(block.lang, trajectory, trajectory_rows, count);
    mamba_.run(block.fuse, stream, RowLayout::contiguous(frames * G, d), count);
  }

  RmsNormParams norm;
  norm.dim = d;
  norm.x = trajectory;
  norm.x_layout = trajectory_rows;
  norm.weight = norm_f_;
  norm.eps = config_.decoder.rms_eps;
  norm.out = normed_.data();
  norm.out_layout = RowLayout{frames, 6, d, 6LL * d};
  backend_->rms_norm(norm);

  // The head is tied to the trajectory embedding: logits = S · traj_embedᵀ + head_bias.
  GemmParams head;
  head.n = vocab;
  head.k = d;
  head.a = normed_.data();
  head.a_layout = RowLayout::contiguous(frames * 6, d);
  head.w = traj_embed_;
  head.ldw = d;
  head.bias = head_bias_;
  head.c = logits_.data();
  head.c_layout = RowLayout::contiguous(frames * 6, vocab);
  backend_->gemm(head);

  Top1Params top;
  top.vocab = vocab;
  top.logits = logits_.data() + vocab;  // slot 1 of frame 0
  top.layout = RowLayout{frames, 4, vocab, 6LL * vocab};
  top.tokens = top_tokens_.data();
  top.scores = scores_.data();
  backend_->top1(top);
}

std::vector<int32_t> Decoder::tokens(int frames) const {
  std::vector<int32_t> out(static_cast<size_t>(frames) * 4);
  backend_->download(out.data(), top_tokens_.data(), out.size() * sizeof(int32_t));
  return out;
}

std::vector<float> Decoder::scores(int frames) const {
  std::vector<float> out(static_cast<size_t>(frames) * 4);
  backend_->download(out.data(), scores_.data(), out.size() * sizeof(float));
  return out;
}

std::vector<float> Decoder::logits(int frames) const {
  std::vector<float> out(static_cast<size_t>(frames) * 6 * static_cast<size_t>(config_.tokens.vocab));
  backend_->download(out.data(), logits_.data(), out.size() * sizeof(float));
  return out;
}

}  // namespace sctdiff
