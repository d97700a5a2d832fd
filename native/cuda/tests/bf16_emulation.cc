// What bf16 GEMMs alone do to the engine's outputs, measured on the CPU: the CPU engine with
// every GEMM's A and W rounded to bf16 (fp32 accumulation, like cuBLASLt's bf16 path) against
// the plain CPU engine, on the same frames and steps as the consistency program. It tells the
// GPU session which part of a consistency difference is the precision, not a bug, and whether
// the tolerances (rel L2 <= 1e-2, >= 99% identical tokens) hold for a given weight file.
//
//   g++ -std=c++17 -O2 -ffp-contract=off -I native -I /usr/include/eigen3 \
//     native/cuda/tests/bf16_emulation.cc native/cpu/*.cc native/engine/*.cc -o bf16_emulation -pthread
//   ./bf16_emulation test/fixtures/goldens/weights.safetensors
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu_backend.h"
#include "engine/network.h"
#include "engine/weights.h"

namespace {

using namespace sctdiff;

float round_bf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest even
  bits &= 0xffff0000u;
  std::memcpy(&x, &bits, 4);
  return x;
}

// A CPU backend whose GEMMs see bf16-rounded operands.
class Bf16GemmBackend final : public Backend {
 public:
  explicit Bf16GemmBackend(int threads) : cpu_(threads) {}
  std::string name() const override { return "cpu-bf16-gemm"; }
  void* allocate(size_t bytes) override { return cpu_.allocate(bytes); }
  void release(void* ptr) override { cpu_.release(ptr); }
  void upload(void* dst, const void* src, size_t bytes) override { cpu_.upload(dst, src, bytes); }
  void download(void* dst, const void* src, size_t bytes) override { cpu_.download(dst, src, bytes); }
  void copy(void* dst, const void* src, size_t bytes) override { cpu_.copy(dst, src, bytes); }
  void copy_blocks(const BlockCopyParams& p) override { cpu_.copy_blocks(p); }
  void synchronize() override {}
  void gemm(const GemmParams& p) override {
    const int rows = p.a_layout.total_rows();
    std::vector<float> a(static_cast<size_t>(rows) * p.k), w(static_cast<size_t>(p.n) * p.k);
    for (int r = 0; r < rows; ++r) {
      const float* src = p.a + p.a_layout.offset(r / p.a_layout.rows, r % p.a_layout.rows);
      for (int k = 0; k < p.k; ++k) a[static_cast<size_t>(r) * p.k + k] = round_bf16(src[k]);
    }
    for (int n = 0; n < p.n; ++n) {
      for (int k = 0; k < p.k; ++k) w[static_cast<size_t>(n) * p.k + k] = round_bf16(p.w[static_cast<int64_t>(n) * p.ldw + k]);
    }
    GemmParams q = p;
    q.a = a.data();
    q.a_layout = RowLayout{p.a_layout.batch, p.a_layout.rows, p.k, static_cast<int64_t>(p.a_layout.rows) * p.k};
    q.w = w.data();
    q.ldw = p.k;
    cpu_.gemm(q);
  }
  void layer_norm(const LayerNormParams& p) override { cpu_.layer_norm(p); }
  void rms_norm(const RmsNormParams& p) override { cpu_.rms_norm(p); }
  void attention(const AttentionParams& p) override { cpu_.attention(p); }
  void patchify(const PatchifyParams& p) override { cpu_.patchify(p); }
  void add_rows(const AddRowsParams& p) override { cpu_.add_rows(p); }
  void timestep_embed(const TimestepEmbedParams& p) override { cpu_.timestep_embed(p); }
  void trajectory_input(const TrajectoryInputParams& p) override { cpu_.trajectory_input(p); }
  void causal_conv1d_silu(const CausalConv1dParams& p) override { cpu_.causal_conv1d_silu(p); }
  void selective_scan(const SelectiveScanParams& p) override { cpu_.selective_scan(p); }
  void top1(const Top1Params& p) override { cpu_.top1(p); }
  void preprocess(const PreprocessParams& p) override { cpu_.preprocess(p); }

 private:
  CpuBackend cpu_;
};

double relative_l2(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    norm += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

std::vector<uint8_t> random_frame(std::mt19937_64& rng, int width, int height) {
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * 3);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  const float fx = dist(rng) * 0.1f, fy = dist(rng) * 0.1f, phase = dist(rng) * 6.0f;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) {
        const float v = 127.5f + 120.0f * std::sin(fx * x * (c + 1) + fy * y + phase + c);
        pixels[(static_cast<size_t>(y) * width + x) * 3 + c] = static_cast<uint8_t>(std::clamp(v + dist(rng) * 8.0f, 0.0f, 255.0f));
      }
  return pixels;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "test/fixtures/goldens/weights.safetensors";
  auto weights = WeightFile::open(path);
  const auto& config = weights->config();
  auto reference = create_cpu_engine(weights, 0);
  auto emulated = create_backend_engine(std::make_unique<Bf16GemmBackend>(0), weights);
  std::mt19937_64 rng(7);
  const int W = 320, H = 240, clip = config.decoder.clip_len;
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < 2 + 3 * clip; ++i) frames.push_back(random_frame(rng, W, H));
  auto view = [&](int i) { return FrameView{frames[static_cast<size_t>(i)].data(), W, H, W * 3, PixelFormat::kRGB}; };
  const int zs = config.encoder.template_size, xs = config.encoder.search_size;
  for (Engine* engine : {reference.get(), emulated.get()}) {
    engine->set_template(0, view(0), CropParams{100, 60, 64, zs});
    engine->set_template(1, view(1), CropParams{90, 70, 70, zs});
  }
  size_t same = 0, total = 0;
  double worst_logits = 0.0, worst_features = 0.0;
  std::uniform_int_distribution<int> token(0, config.tokens.bins - 1);
  for (int step = 0; step < clip + 5; ++step) {
    const bool filling = step < clip;
    const int slot = filling ? step : clip;
    std::vector<FrameView> views{view(2 + step % (3 * clip))};
    std::vector<CropParams> crops{CropParams{60 + step * 3, 30 - step, 150 + step, xs}};
    reference->encode(views, crops, {slot});
    emulated->encode(views, crops, {slot});
    const int n = std::min(step + 1, clip);
    std::vector<int> slots;
    for (int f = n - 1; f >= 1; --f) slots.push_back(filling ? step - f : clip - f);
    slots.push_back(slot);
    std::vector<int32_t> prior, timesteps;
    for (int f = 0; f < n; ++f) {
      for (int j = 0; j < 4; ++j) prior.push_back(token(rng));
      timesteps.push_back(f == n - 1 ? config.diffusion.t_new : config.diffusion.t_refine);
    }
    const auto a = reference->debug_decode(slots, prior, timesteps, 1000 + static_cast<uint64_t>(step));
    const auto b = emulated->debug_decode(slots, prior, timesteps, 1000 + static_cast<uint64_t>(step));
    for (size_t i = 0; i < a.tokens.size(); ++i) same += a.tokens[i] == b.tokens[i];
    total += a.tokens.size();
    worst_logits = std::max(worst_logits, relative_l2(b.logits, a.logits));
    worst_features = std::max(worst_features, relative_l2(emulated->debug_features(slot), reference->debug_features(slot)));
  }
  std::printf("%s (%s): bf16 GEMMs vs fp32: tokens %zu/%zu identical (%.2f%%), worst rel_l2 features %.3g, logits %.3g\n",
              path.c_str(), config.name.c_str(), same, total, 100.0 * static_cast<double>(same) / static_cast<double>(total),
              worst_features, worst_logits);
  return 0;
}
