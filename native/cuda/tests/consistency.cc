// Backend consistency: every CUDA op and the whole engine step against the CPU backend on the
// same random inputs and weights (the CPU backend is the reference implementation of each op).
//
//   sctdiff_cuda_consistency [--ops-only] [weights.safetensors ...]
//
// Without arguments the engine check uses the committed micro weights
// (test/fixtures/goldens/weights.safetensors, found from the working directory or the source
// tree). Exit status: 0 all checks passed, 1 some failed, 77 skipped (no CUDA device).
// Tolerances: fp32 kernels 1e-4 relative L2; GEMMs in bf16 1e-2, tf32 2e-3, fp32 1e-5;
// preprocessing bit-exact; the engine's tokens >= 99% identical and logits/features <= 1e-2,
// for the lone engine and for the batch engine (several streams per call, as an EngineGroup runs).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <tuple>
#include <string>
#include <vector>

#include "cpu/cpu_backend.h"
#include "cuda/cuda_backend.h"
#include "cuda/cuda_batch_engine.h"
#include "cuda/cuda_engine.h"
#include "cuda/cuda_error.h"
#include "engine/batch_engine.h"
#include "engine/weights.h"

namespace {

using sctdiff::Backend;
using sctdiff::CpuBackend;
using sctdiff::RowLayout;
using sctdiff::cuda::CudaBackend;
using sctdiff::cuda::CudaBackendOptions;
using sctdiff::cuda::GemmPrecision;

constexpr int kSkipped = 77;
int g_checks = 0, g_failures = 0;

double relative_l2(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    if (!std::isfinite(a[i])) return INFINITY;
    diff += d * d;
    norm += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

void expect(bool ok, const std::string& name, const std::string& detail) {
  ++g_checks;
  if (!ok) ++g_failures;
  std::printf("%s %-58s %s\n", ok ? "ok  " : "FAIL", name.c_str(), detail.c_str());
}

void expect_close(const std::string& name, const std::vector<float>& gpu, const std::vector<float>& cpu, double limit) {
  const double error = relative_l2(gpu, cpu);
  char detail[96];
  std::snprintf(detail, sizeof(detail), "rel_l2 %.3g (limit %.1g)", error, limit);
  expect(error <= limit, name, detail);
}

void expect_equal(const std::string& name, const std::vector<float>& gpu, const std::vector<float>& cpu) {
  size_t differing = gpu.size() == cpu.size() ? 0 : std::max(gpu.size(), cpu.size());
  for (size_t i = 0; i < std::min(gpu.size(), cpu.size()); ++i) differing += gpu[i] != cpu[i];
  expect(differing == 0, name, "bit-exact, " + std::to_string(differing) + " of " + std::to_string(cpu.size()) + " differ");
}

// The same array in both backends' memory.
template <typename T>
struct Mirror {
  std::vector<T> host;
  T* side[2] = {nullptr, nullptr};
  T* on(int s) const { return side[s]; }
};

class Harness {
 public:
  explicit Harness(const CudaBackendOptions& options) : cpu_(2), gpu_(options) {}
  Backend& backend(int s) { return s == 0 ? static_cast<Backend&>(cpu_) : static_cast<Backend&>(gpu_); }
  CudaBackend& gpu() { return gpu_; }
  std::mt19937_64& rng() { return rng_; }

  template <typename T>
  Mirror<T> make(std::vector<T> values) {
    Mirror<T> m;
    m.host = std::move(values);
    for (int s = 0; s < 2; ++s) {
      m.side[s] = static_cast<T*>(backend(s).allocate(std::max<size_t>(m.host.size(), 1) * sizeof(T)));
      backend(s).upload(m.side[s], m.host.data(), m.host.size() * sizeof(T));
    }
    owned_.push_back({m.side[0], m.side[1]});
    return m;
  }
  Mirror<float> random(size_t count, float lo = -1.0f, float hi = 1.0f) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> values(count);
    for (float& v : values) v = dist(rng_);
    return make(std::move(values));
  }
  template <typename T>
  std::vector<T> read(const Mirror<T>& m, int s) {
    std::vector<T> out(m.host.size());
    backend(s).download(out.data(), m.side[s], out.size() * sizeof(T));
    return out;
  }
  ~Harness() {
    for (auto& pair : owned_) {
      cpu_.release(pair[0]);
      gpu_.release(pair[1]);
    }
  }

 private:
  CpuBackend cpu_;
  CudaBackend gpu_;
  std::mt19937_64 rng_{12345};
  std::vector<std::array<void*, 2>> owned_;
};

// --- Op checks ----------------------------------------------------------------------------------

void check_gemm(Harness& h, const std::string& label, double limit) {
  struct Case {
    const char* name;
    int batch, m, n, k;
    int64_t a_extra, c_extra;  // padding of lds and batch strides
    bool bias;
    sctdiff::Activation act;
    float alpha, beta;
  };
  const Case cases[] = {
      {"plain", 1, 37, 48, 64, 0, 0, false, sctdiff::Activation::kNone, 1.0f, 0.0f},
      {"bias", 1, 130, 96, 72, 0, 0, true, sctdiff::Activation::kNone, 1.0f, 0.0f},
      {"bias+gelu", 1, 64, 160, 48, 0, 0, true, sctdiff::Activation::kGelu, 1.0f, 0.0f},
      {"bias+silu", 1, 6, 32, 32, 0, 0, true, sctdiff::Activation::kSilu, 1.0f, 0.0f},
      {"bias+softplus (dt_proj)", 1, 70, 64, 8, 8, 0, true, sctdiff::Activation::kSoftplus, 1.0f, 0.0f},
      {"residual beta=1 + bias", 1, 50, 64, 96, 0, 0, true, sctdiff::Activation::kNone, 1.0f, 1.0f},
      {"alpha=0.5 beta=1 strided batch (out_proj)", 3, 20, 32, 64, 0, 16, false, sctdiff::Activation::kNone, 0.5f, 1.0f},
      {"strided batch + bias (vis_proj)", 4, 16, 32, 128, 0, 8, true, sctdiff::Activation::kNone, 1.0f, 1.0f},
      {"alpha=0.5 + bias + gelu + beta=1", 2, 9, 24, 40, 4, 4, true, sctdiff::Activation::kGelu, 0.5f, 1.0f},
  };
  for (const Case& c : cases) {
    const int64_t lda = c.k + c.a_extra, ldc = c.n + c.c_extra;
    const RowLayout a_layout{c.batch, c.m, lda, c.m * lda + c.a_extra * 3};
    const RowLayout c_layout{c.batch, c.m, ldc, c.m * ldc + c.c_extra * 5};
    auto a = h.random(static_cast<size_t>(a_layout.batch_stride) * c.batch);
    auto w = h.random(static_cast<size_t>(c.n) * c.k, -0.2f, 0.2f);
    auto bias = h.random(static_cast<size_t>(c.n));
    auto out = h.random(static_cast<size_t>(c_layout.batch_stride) * c.batch);
    for (int s = 0; s < 2; ++s) {
      sctdiff::GemmParams p;
      p.n = c.n;
      p.k = c.k;
      p.a = a.on(s);
      p.a_layout = a_layout;
      p.w = w.on(s);
      p.ldw = c.k;
      p.bias = c.bias ? bias.on(s) : nullptr;
      p.c = out.on(s);
      p.c_layout = c_layout;
      p.alpha = c.alpha;
      p.beta = c.beta;
      p.act = c.act;
      h.backend(s).gemm(p);
    }
    expect_close("gemm " + label + ": " + c.name, h.read(out, 1), h.read(out, 0), limit);
  }
}

void check_norms(Harness& h) {
  for (int dim : {32, 192, 768}) {
    const RowLayout in{3, 7, dim + 4, 7LL * (dim + 4) + 9};
    auto x = h.random(static_cast<size_t>(in.batch_stride) * 3, -3.0f, 5.0f);
    auto weight = h.random(dim), bias = h.random(dim);
    auto out = h.random(static_cast<size_t>(21) * dim);
    auto rms = h.random(static_cast<size_t>(21) * dim);
    for (int s = 0; s < 2; ++s) {
      sctdiff::LayerNormParams ln;
      ln.dim = dim;
      ln.x = x.on(s);
      ln.x_layout = in;
      ln.weight = weight.on(s);
      ln.bias = bias.on(s);
      ln.out = out.on(s);
      ln.out_layout = RowLayout::contiguous(21, dim);
      h.backend(s).layer_norm(ln);
      sctdiff::RmsNormParams rn;
      rn.dim = dim;
      rn.x = x.on(s);
      rn.x_layout = in;
      rn.weight = weight.on(s);
      rn.out = rms.on(s);
      rn.out_layout = RowLayout::contiguous(21, dim);
      h.backend(s).rms_norm(rn);
    }
    expect_close("layer_norm dim " + std::to_string(dim), h.read(out, 1), h.read(out, 0), 1e-5);
    expect_close("rms_norm dim " + std::to_string(dim), h.read(rms, 1), h.read(rms, 0), 1e-5);
  }
}

void check_attention(Harness& h, const std::string& label, double limit) {
  struct Case {
    int batch, seq, heads, head_dim;
  };
  for (const Case& c : {Case{2, 100, 2, 32}, Case{1, 96, 3, 64}, Case{2, 384, 2, 64}, Case{1, 70, 1, 128}, Case{3, 5, 4, 16}}) {
    const int64_t width = static_cast<int64_t>(c.heads) * c.head_dim;
    auto qkv = h.random(static_cast<size_t>(c.batch) * c.seq * 3 * width, -2.0f, 2.0f);
    auto out = h.random(static_cast<size_t>(c.batch) * c.seq * width);
    for (int s = 0; s < 2; ++s) {
      sctdiff::AttentionParams p;
      p.batch = c.batch;
      p.seq = c.seq;
      p.heads = c.heads;
      p.head_dim = c.head_dim;
      p.qkv = qkv.on(s);
      p.out = out.on(s);
      p.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
      h.backend(s).attention(p);
    }
    expect_close("attention " + label + " b" + std::to_string(c.batch) + " seq " + std::to_string(c.seq) + " heads " +
                     std::to_string(c.heads) + " dh " + std::to_string(c.head_dim),
                 h.read(out, 1), h.read(out, 0), limit);
  }
}

void check_mamba_ops(Harness& h) {
  // L = 37 runs the sequential scan, L = 300 the chunked one (cuda_mamba.cu); 3 sequences of L
  // rows each are a batch of streams' windows (independent recurrences, SelectiveScanParams).
  for (int sequences : {1, 3}) {
  for (int L : {37, 300}) {
  for (int state : {16, 5}) {
    for (bool reverse : {false, true}) {
      const int E = 70, K = 4;
      const size_t rows = static_cast<size_t>(L) * sequences;
      auto xz = h.random(rows * 2 * E);
      auto weight = h.random(static_cast<size_t>(E) * K), bias = h.random(E);
      auto conv = h.random(rows * E);
      auto delta = h.random(rows * E, 0.01f, 1.0f);
      auto a = h.random(static_cast<size_t>(E) * state, -2.0f, -0.1f);
      auto dbc = h.random(rows * (3 + 2 * state));
      auto d = h.random(E);
      auto y = h.random(rows * E);
      for (int s = 0; s < 2; ++s) {
        sctdiff::CausalConv1dParams cp;
        cp.seq = L;
        cp.channels = E;
        cp.width = K;
        cp.x = xz.on(s);
        cp.ldx = 2 * E;
        cp.weight = weight.on(s);
        cp.bias = bias.on(s);
        cp.out = conv.on(s);
        cp.ldout = E;
        cp.reverse = reverse;
        cp.sequences = sequences;
        cp.sequence_stride = L;
        h.backend(s).causal_conv1d_silu(cp);
        sctdiff::SelectiveScanParams sp;
        sp.seq = L;
        sp.channels = E;
        sp.state = state;
        sp.u = conv.on(s);
        sp.ldu = E;
        sp.delta = delta.on(s);
        sp.ld_delta = E;
        sp.a = a.on(s);
        sp.b = dbc.on(s) + 3;
        sp.c = dbc.on(s) + 3 + state;
        sp.ld_bc = 3 + 2 * state;
        sp.d = d.on(s);
        sp.z = xz.on(s) + E;
        sp.ldz = 2 * E;
        sp.out = y.on(s);
        sp.ldout = E;
        sp.reverse = reverse;
        sp.accumulate = reverse;
        sp.sequences = sequences;
        sp.sequence_stride = L;
        h.backend(s).selective_scan(sp);
      }
      const std::string tag = std::string(reverse ? "reverse" : "forward") + " L " + std::to_string(L) + " state " +
                              std::to_string(state) + " sequences " + std::to_string(sequences);
      expect_close("causal_conv1d_silu " + tag, h.read(conv, 1), h.read(conv, 0), 1e-5);
      expect_close("selective_scan " + tag + (reverse ? " (accumulate)" : ""), h.read(y, 1), h.read(y, 0), 1e-4);
    }
  }
  }
  }
}

void check_small_ops(Harness& h) {
  // patchify, channels-first (encoder) and channels-last with slot offsets (decoder)
  {
    auto image = h.random(2 * 3 * 32 * 32);
    auto out = h.random(2 * 4 * 4 * 3 * 8 * 8);
    auto features = h.random(5 * 8 * 8 * 16);
    auto out_last = h.random(3 * 4 * 4 * 2 * 2 * 16);
    const int64_t offsets[3] = {4 * 8 * 8 * 16, 0, 2 * 8 * 8 * 16};
    for (int s = 0; s < 2; ++s) {
      sctdiff::PatchifyParams p;
      p.batch = 2;
      p.channels = 3;
      p.height = p.width = 32;
      p.patch = 8;
      p.in = image.on(s);
      p.out = out.on(s);
      h.backend(s).patchify(p);
      sctdiff::PatchifyParams q;
      q.batch = 3;
      q.channels = 16;
      q.height = q.width = 8;
      q.patch = 2;
      q.channels_last = true;
      q.in = features.on(s);
      q.batch_offsets = offsets;
      q.out = out_last.on(s);
      h.backend(s).patchify(q);
    }
    expect_equal("patchify channels-first", h.read(out, 1), h.read(out, 0));
    expect_equal("patchify channels-last with offsets", h.read(out_last, 1), h.read(out_last, 0));
  }
  // add_rows and timestep/trajectory inputs
  {
    const int dim = 24, frames = 3, G = 10;
    // Trajectory rows 8..13 of each group of G = 10 spill into the next group (and 4 rows past the
    // last one), so the order of ops matters: both backends must keep it.
    auto table = h.random(6 * dim), per_batch = h.random(frames * dim), stream = h.random((frames * G + 4) * dim);
    auto tokens = h.make(std::vector<int32_t>{800, 3, 7, 390, 401, 801, 800, 0, 1, 2, 3, 801, 800, 399, 398, 10, 20, 801});
    auto timesteps = h.make(std::vector<int32_t>{999, 500, 0});
    auto signal = h.make(std::vector<float>{0.1f, 0.7f, 1.0f}), noise = h.make(std::vector<float>{0.99f, 0.7f, 0.0f});
    auto vocab_table = h.random(802 * dim), pos1d = h.random(6 * dim), temporal = h.random(6 * dim);
    auto time_sin = h.random(frames * dim), time_emb = h.random(frames * dim);
    const uint64_t seed = 0x1234567890abcdefull;
    for (int s = 0; s < 2; ++s) {
      sctdiff::AddRowsParams p;
      p.dim = dim;
      p.table = table.on(s);
      p.table_ld = dim;
      p.per_batch = per_batch.on(s);
      p.per_batch_ld = dim;
      p.out = stream.on(s);
      p.out_layout = RowLayout{frames, 4, dim, static_cast<int64_t>(G) * dim};
      h.backend(s).add_rows(p);
      p.overwrite = true;
      p.per_batch = nullptr;
      p.table_ld = 0;
      p.out = stream.on(s) + 4 * dim;
      h.backend(s).add_rows(p);
      sctdiff::TimestepEmbedParams t;
      t.count = frames;
      t.dim = dim;
      t.timesteps = timesteps.on(s);
      t.out = time_sin.on(s);
      h.backend(s).timestep_embed(t);
      sctdiff::TrajectoryInputParams ti;
      ti.frames = frames;
      ti.dim = dim;
      ti.tokens = tokens.on(s);
      ti.table = vocab_table.on(s);
      ti.signal = signal.on(s);
      ti.noise = noise.on(s);
      ti.seeds = &seed;
      ti.pos1d = pos1d.on(s);
      ti.temporal = temporal.on(s);
      ti.time_emb = time_emb.on(s);
      ti.out = stream.on(s) + 8 * dim;
      ti.out_layout = RowLayout{frames, 6, dim, static_cast<int64_t>(G) * dim};
      h.backend(s).trajectory_input(ti);
    }
    expect_close("add_rows + trajectory_input (interleaved rows)", h.read(stream, 1), h.read(stream, 0), 1e-6);
    expect_close("timestep_embed", h.read(time_sin, 1), h.read(time_sin, 0), 1e-6);
  }
  // copy_blocks: aligned (float4 path) and unaligned (float path) blocks, gathered in reverse
  // order from one array and scattered into another with gaps that must stay untouched
  for (int64_t shift : {0, 1}) {
    const int count = 7;
    const int64_t elements = 4 * 1031 + (shift == 0 ? 0 : 3);
    auto from = h.random(static_cast<size_t>(count) * 2 * static_cast<size_t>(elements + 4));
    auto to = h.random(static_cast<size_t>(count) * 3 * static_cast<size_t>(elements + 4));
    for (int s = 0; s < 2; ++s) {
      std::vector<const float*> sources;
      std::vector<float*> destinations;
      for (int i = 0; i < count; ++i) {
        sources.push_back(from.on(s) + (count - 1 - i) * 2 * (elements + 4) + shift);
        destinations.push_back(to.on(s) + i * 3 * (elements + 4) + 4 * shift);
      }
      sctdiff::BlockCopyParams p;
      p.count = count;
      p.elements = elements;
      p.sources = sources.data();
      p.destinations = destinations.data();
      h.backend(s).copy_blocks(p);
    }
    expect_equal(shift == 0 ? "copy_blocks (aligned, float4)" : "copy_blocks (unaligned)", h.read(to, 1), h.read(to, 0));
  }
  // top1 with ties and a strided layout
  {
    const int vocab = 802, frames = 3;
    std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
    std::vector<float> logits(static_cast<size_t>(frames) * 6 * vocab);
    for (float& v : logits) v = dist(h.rng());
    logits[1 * vocab + 17] = 9.0f;  // a tie: the lowest index wins
    logits[1 * vocab + 500] = 9.0f;
    auto l = h.make(logits);
    auto tokens = h.make(std::vector<int32_t>(frames * 4, -1));
    auto scores = h.make(std::vector<float>(frames * 4, -1.0f));
    for (int s = 0; s < 2; ++s) {
      sctdiff::Top1Params p;
      p.vocab = vocab;
      p.logits = l.on(s) + vocab;
      p.layout = RowLayout{frames, 4, vocab, 6LL * vocab};
      p.tokens = tokens.on(s);
      p.scores = scores.on(s);
      h.backend(s).top1(p);
    }
    const auto gpu_tokens = h.read(tokens, 1), cpu_tokens = h.read(tokens, 0);
    expect(gpu_tokens == cpu_tokens && cpu_tokens[0] == 17, "top1 tokens (ties -> lowest index)",
           "first token " + std::to_string(gpu_tokens[0]));
    expect_close("top1 scores", h.read(scores, 1), h.read(scores, 0), 1e-5);
  }
}

void check_preprocess(Harness& h) {
  std::uniform_int_distribution<int> byte(0, 255);
  struct Case {
    sctdiff::PixelFormat format;
    int channels, width, height, x0, y0, side, size;
    const char* name;
  };
  const Case cases[] = {
      {sctdiff::PixelFormat::kRGB, 3, 97, 61, -20, 10, 80, 64, "RGB, crop leaving left and bottom, downscale"},
      {sctdiff::PixelFormat::kBGR, 3, 50, 40, 5, -7, 30, 64, "BGR, upscale"},
      {sctdiff::PixelFormat::kRGBA, 4, 33, 33, 0, 0, 33, 32, "RGBA, whole frame"},
      {sctdiff::PixelFormat::kGray, 1, 64, 48, 60, 40, 20, 16, "Gray, mostly outside"},
      {sctdiff::PixelFormat::kRGB, 3, 40, 30, 100, 100, 10, 16, "RGB, entirely outside"},
  };
  std::vector<std::vector<uint8_t>> frames;
  std::vector<sctdiff::PreprocessImage> images[2];
  std::vector<Mirror<float>> alone, together;
  for (const Case& c : cases) {
    const int stride = c.width * c.channels + 5;  // padded rows
    frames.emplace_back(static_cast<size_t>(stride) * c.height);
    for (auto& v : frames.back()) v = static_cast<uint8_t>(byte(h.rng()));
    const std::vector<float> zeros(3 * static_cast<size_t>(c.size) * c.size, 0.0f);
    alone.push_back(h.make(zeros));
    together.push_back(h.make(zeros));
    for (int s = 0; s < 2; ++s) {
      const sctdiff::FrameView frame{frames.back().data(), c.width, c.height, stride, c.format};
      images[s].push_back(sctdiff::PreprocessImage{frame, sctdiff::CropParams{c.x0, c.y0, c.side, c.size}, together.back().on(s)});
    }
  }
  auto params = [](const sctdiff::PreprocessImage* first, int count) {
    sctdiff::PreprocessParams p;
    p.count = count;
    p.images = first;
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std_dev[3] = {0.229f, 0.224f, 0.225f};
    for (int i = 0; i < 3; ++i) {
      p.mean[i] = mean[i];
      p.std[i] = std_dev[i];
    }
    return p;
  };
  // Each case alone, then all of them (different formats, frame sizes and output sizes) in one
  // call: one launch whose images share the grid, and one upload of all their pixels.
  for (size_t i = 0; i < std::size(cases); ++i) {
    for (int s = 0; s < 2; ++s) {
      sctdiff::PreprocessImage image = images[s][i];
      image.out = alone[i].on(s);
      h.backend(s).preprocess(params(&image, 1));
    }
    expect_equal(std::string("preprocess ") + cases[i].name, h.read(alone[i], 1), h.read(alone[i], 0));
  }
  const int64_t uploads_before = h.gpu().stats().frame_uploads;
  for (int s = 0; s < 2; ++s) h.backend(s).preprocess(params(images[s].data(), static_cast<int>(images[s].size())));
  bool batched_equal = true;
  for (size_t i = 0; i < std::size(cases); ++i) batched_equal = batched_equal && h.read(together[i], 1) == h.read(alone[i], 0);
  expect(batched_equal, "preprocess: every case in one call == each alone on the CPU",
         std::to_string(std::size(cases)) + " images");
  const int64_t uploads = h.gpu().stats().frame_uploads - uploads_before;
  expect(uploads == 1, "preprocess: one call's frames go up in one copy", std::to_string(uploads) + " copies");
}

// The same op sequence on the same buffers, with new inputs every round: round 0 converts the
// GEMM weight (a one-off sequence), round 1 runs the steady sequence eagerly, round 2 captures
// it, rounds 3-4 replay it. Every round must match the CPU.
void check_graph_replay(Harness& h, bool graphs) {
  const int rows = 24, dim = 64, n = 48;
  auto x = h.random(static_cast<size_t>(rows) * dim);
  auto ln_weight = h.random(dim), ln_bias = h.random(dim);
  auto w = h.random(static_cast<size_t>(n) * dim, -0.2f, 0.2f), bias = h.random(n), table = h.random(n);
  auto normed = h.random(static_cast<size_t>(rows) * dim), out = h.random(static_cast<size_t>(rows) * n);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  const sctdiff::cuda::CudaBackendStats before = h.gpu().stats();
  for (int round = 0; round < 5; ++round) {
    std::vector<float> fresh(x.host.size());
    for (float& v : fresh) v = dist(h.rng());
    for (int s = 0; s < 2; ++s) {
      h.backend(s).upload(x.on(s), fresh.data(), fresh.size() * sizeof(float));
      sctdiff::LayerNormParams ln;
      ln.dim = dim;
      ln.x = x.on(s);
      ln.x_layout = RowLayout::contiguous(rows, dim);
      ln.weight = ln_weight.on(s);
      ln.bias = ln_bias.on(s);
      ln.out = normed.on(s);
      ln.out_layout = ln.x_layout;
      h.backend(s).layer_norm(ln);
      sctdiff::GemmParams g;
      g.n = n;
      g.k = dim;
      g.a = normed.on(s);
      g.a_layout = RowLayout::contiguous(rows, dim);
      g.w = w.on(s);
      g.ldw = dim;
      g.bias = bias.on(s);
      g.act = sctdiff::Activation::kGelu;
      g.c = out.on(s);
      g.c_layout = RowLayout::contiguous(rows, n);
      h.backend(s).gemm(g);
      sctdiff::AddRowsParams add;
      add.dim = n;
      add.table = table.on(s);
      add.out = out.on(s);
      add.out_layout = RowLayout::contiguous(rows, n);
      h.backend(s).add_rows(add);
    }
    expect_close("graph replay round " + std::to_string(round) + " (upload, layer_norm, gemm, add_rows)", h.read(out, 1),
                 h.read(out, 0), 1e-2);
  }
  if (graphs) {
    const auto& after = h.gpu().stats();
    const int64_t captures = after.graph_captures - before.graph_captures;
    const int64_t launches = after.graph_launches - before.graph_launches;
    expect(captures == 1 && launches == 3, "graph replay: 1 capture, 3 launches",
           std::to_string(captures) + " captures, " + std::to_string(launches) + " launches");
  }
}

void run_op_checks(const CudaBackendOptions& options, const std::string& label, bool has_cublaslt) {
  std::printf("-- ops (%s)\n", label.c_str());
  Harness h(options);
  // With graphs on, each check's ops are recorded and flushed at its read-back (buffers are new
  // for every check, so each sequence runs once, eagerly); capture and replay with changing
  // inputs are exercised by the engine check, whose steady-state steps repeat exactly.
  {
    check_norms(h);
    check_attention(h, "fp32", 1e-4);
    check_mamba_ops(h);
    check_small_ops(h);
    check_preprocess(h);
    check_graph_replay(h, options.graphs);
  }
  int major = 0;
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, options.device);
  if (major >= 8) {
    CudaBackendOptions mma = options;
    mma.attention_mma = true;
    Harness m(mma);
    check_attention(m, "bf16 mma", 1e-2);
  }
  CudaBackendOptions simt = options;
  simt.force_simt_gemm = true;
  {
    Harness s(simt);
    check_gemm(s, "simt fp32", 1e-5);
  }
  if (has_cublaslt) {
    for (auto [precision, name, limit] : {std::tuple{GemmPrecision::kBf16, "cublasLt bf16", 1e-2},
                                          std::tuple{GemmPrecision::kTf32, "cublasLt tf32", 2e-3},
                                          std::tuple{GemmPrecision::kFp32, "cublasLt fp32", 1e-5}}) {
      CudaBackendOptions o = options;
      o.precision = precision;
      Harness g(o);
      check_gemm(g, name, limit);
    }
  }
}

// --- Engine check ---------------------------------------------------------------------------------

std::vector<uint8_t> random_frame(std::mt19937_64& rng, int width, int height) {
  // Smooth content (a few gradients and blobs), so resizes and features are not pure noise.
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * 3);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  const float fx = dist(rng) * 0.1f, fy = dist(rng) * 0.1f, phase = dist(rng) * 6.0f;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        const float v = 127.5f + 120.0f * std::sin(fx * x * (c + 1) + fy * y + phase + c);
        pixels[(static_cast<size_t>(y) * width + x) * 3 + c] = static_cast<uint8_t>(std::clamp(v + dist(rng) * 8.0f, 0.0f, 255.0f));
      }
    }
  }
  return pixels;
}

void check_engine(const std::string& path, bool graphs, bool attention_mma) {
  std::printf("-- engine %s (graphs %s, attention %s)\n", path.c_str(), graphs ? "on" : "off",
              attention_mma ? "bf16 mma" : "fp32");
  auto weights = sctdiff::WeightFile::open(path);
  const auto& config = weights->config();
  auto cpu = sctdiff::create_cpu_engine(weights, 0);
  CudaBackendOptions options = sctdiff::cuda::options_from_environment({});
  options.graphs = graphs;
  options.attention_mma = attention_mma;
  sctdiff::cuda::CudaEngine gpu(weights, options);
  std::mt19937_64 rng(7);
  const int W = 320, H = 240;
  const int clip = config.decoder.clip_len;
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < 2 + 3 * clip; ++i) frames.push_back(random_frame(rng, W, H));
  auto view = [&](int i) { return sctdiff::FrameView{frames[static_cast<size_t>(i)].data(), W, H, W * 3, sctdiff::PixelFormat::kRGB}; };
  const int zs = config.encoder.template_size, xs = config.encoder.search_size;
  for (sctdiff::Engine* engine : {cpu.get(), static_cast<sctdiff::Engine*>(&gpu)}) {
    engine->set_template(0, view(0), sctdiff::CropParams{100, 60, 64, zs});
    engine->set_template(1, view(1), sctdiff::CropParams{90, 70, 70, zs});
  }
  size_t same_tokens = 0, total_tokens = 0;
  double worst_logits = 0.0, worst_features = 0.0, worst_scores = 0.0;
  // First the window fills (one new frame per step, slots 0..clip-1); then steps of the same
  // shape repeat (the newest frame always into slot `clip`), so graph mode captures and replays
  // them with new frames, crops, tokens, timesteps and seeds every step.
  const int steps = clip + 5;
  std::uniform_int_distribution<int> token(0, config.tokens.bins - 1);
  for (int step = 0; step < steps; ++step) {
    const bool filling = step < clip;
    const int slot = filling ? step : clip;
    std::vector<sctdiff::FrameView> views{view(2 + step % (3 * clip))};
    std::vector<sctdiff::CropParams> crops{sctdiff::CropParams{60 + step * 3, 30 - step, 150 + step, xs}};
    cpu->encode(views, crops, {slot});
    gpu.encode(views, crops, {slot});
    const int frames_in_window = std::min(step + 1, clip);
    std::vector<int> slots;
    for (int f = frames_in_window - 1; f >= 1; --f) slots.push_back(filling ? step - f : clip - f);
    slots.push_back(slot);
    std::vector<int32_t> prior, timesteps;
    for (int f = 0; f < frames_in_window; ++f) {
      for (int j = 0; j < 4; ++j) prior.push_back(token(rng));
      timesteps.push_back(f == frames_in_window - 1 ? config.diffusion.t_new : config.diffusion.t_refine);
    }
    const uint64_t seed = 1000 + static_cast<uint64_t>(step);
    const auto expected = cpu->debug_decode(slots, prior, timesteps, seed);
    const auto actual = step % 2 == 0 ? gpu.debug_decode(slots, prior, timesteps, seed) : gpu.decode(slots, prior, timesteps, seed);
    for (size_t i = 0; i < expected.tokens.size(); ++i) same_tokens += expected.tokens[i] == actual.tokens[i];
    total_tokens += expected.tokens.size();
    worst_scores = std::max(worst_scores, relative_l2(actual.scores, expected.scores));
    if (!actual.logits.empty()) worst_logits = std::max(worst_logits, relative_l2(actual.logits, expected.logits));
    worst_features = std::max(worst_features, relative_l2(gpu.debug_features(slot), cpu->debug_features(slot)));
  }
  const auto& stats = gpu.backend().stats();
  char detail[160];
  std::snprintf(detail, sizeof(detail), "%zu of %zu identical (%.2f%%)", same_tokens, total_tokens,
                100.0 * static_cast<double>(same_tokens) / static_cast<double>(total_tokens));
  expect(same_tokens * 100 >= total_tokens * 99, "engine tokens", detail);
  std::snprintf(detail, sizeof(detail), "worst rel_l2 %.3g (limit 1e-2)", worst_features);
  expect(worst_features <= 1e-2, "engine encoder features", detail);
  std::snprintf(detail, sizeof(detail), "worst rel_l2 %.3g (limit 1e-2)", worst_logits);
  expect(worst_logits <= 1e-2, "engine logits", detail);
  std::snprintf(detail, sizeof(detail), "worst rel_l2 %.3g (limit 1e-2)", worst_scores);
  expect(worst_scores <= 1e-2, "engine scores", detail);
  std::snprintf(detail, sizeof(detail), "%lld captures, %lld replays, %lld flushes (%s)",
                static_cast<long long>(stats.graph_captures), static_cast<long long>(stats.graph_launches),
                static_cast<long long>(stats.flushes), gpu.backend().gemm_description().c_str());
  expect(!graphs || stats.graph_launches > stats.graph_captures, "engine graphs replayed", detail);
}

// The batch engine (an EngineGroup's): kStreams streams, each with its own templates, whose
// encodes run as one batch and whose decodes run as one batch with windows of different lengths
// (so the decoder runs several sub-batches), against the CPU batch engine on the same requests.
// Steady-state steps repeat the same shapes, so graph mode captures and replays them.
void check_batch_engine(const std::string& path, bool graphs) {
  std::printf("-- batch engine %s (graphs %s)\n", path.c_str(), graphs ? "on" : "off");
  constexpr int kStreams = 4;
  auto weights = sctdiff::WeightFile::open(path);
  const auto& config = weights->config();
  auto cpu = sctdiff::create_cpu_batch_engine(weights, 0);
  CudaBackendOptions options = sctdiff::cuda::options_from_environment({});
  options.graphs = graphs;
  sctdiff::cuda::CudaBatchEngine gpu(weights, options);
  std::mt19937_64 rng(11);
  const int W = 320, H = 240;
  const int clip = config.decoder.clip_len;
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < 4 * kStreams + 3 * clip; ++i) frames.push_back(random_frame(rng, W, H));
  auto view = [&](int i) {
    return sctdiff::FrameView{frames[static_cast<size_t>(i % static_cast<int>(frames.size()))].data(), W, H, W * 3,
                              sctdiff::PixelFormat::kRGB};
  };
  const int zs = config.encoder.template_size, xs = config.encoder.search_size;
  for (sctdiff::BatchEngine* engine : {cpu.get(), static_cast<sctdiff::BatchEngine*>(&gpu)}) {
    for (int s = 0; s < kStreams; ++s) {
      engine->set_template(20 + s, 0, view(2 * s), sctdiff::CropParams{100 + 5 * s, 60, 64, zs});
      engine->set_template(20 + s, 1, view(2 * s + 1), sctdiff::CropParams{90, 70 + 3 * s, 70, zs});
    }
  }
  size_t same_tokens = 0, total_tokens = 0, logit_checks = 0;
  double worst_logits = 0.0, worst_features = 0.0, worst_scores = 0.0;
  std::uniform_int_distribution<int> token(0, config.tokens.bins - 1);
  const int steps = clip + 4;
  for (int step = 0; step < steps; ++step) {
    const bool filling = step < clip;
    const int slot = filling ? step : clip;
    std::vector<sctdiff::StreamEncode> encodes;
    std::vector<sctdiff::StreamDecode> decodes;
    for (int s = 0; s < kStreams; ++s) {
      sctdiff::StreamEncode encode;
      encode.stream = 20 + s;
      encode.frames = {view(2 * kStreams + step * kStreams + s)};
      encode.crops = {sctdiff::CropParams{60 + step * 3 + s, 30 - step + 2 * s, 150 + step, xs}};
      encode.slots = {slot};
      encodes.push_back(encode);
      // Stream 1 decodes a window one frame shorter than the others (a second sub-batch).
      const int frames_in_window = std::max(1, std::min(step + 1, clip) - (s == 1 ? 1 : 0));
      sctdiff::StreamDecode decode;
      decode.stream = 20 + s;
      for (int f = frames_in_window - 1; f >= 1; --f) decode.slots.push_back(filling ? step - f : clip - f);
      decode.slots.push_back(slot);
      for (int f = 0; f < frames_in_window; ++f) {
        for (int j = 0; j < 4; ++j) decode.tokens.push_back(token(rng));
        decode.timesteps.push_back(f == frames_in_window - 1 ? config.diffusion.t_new : config.diffusion.t_refine);
      }
      decode.seed = 5000 + static_cast<uint64_t>(step * kStreams + s);
      decodes.push_back(decode);
    }
    cpu->encode_batch(encodes);
    gpu.encode_batch(encodes);
    const auto expected = cpu->decode_batch(decodes, true);
    const auto actual = gpu.decode_batch(decodes, step % 2 == 0);
    for (int s = 0; s < kStreams; ++s) {
      const auto& e = expected[static_cast<size_t>(s)];
      const auto& a = actual[static_cast<size_t>(s)];
      for (size_t i = 0; i < e.tokens.size() && i < a.tokens.size(); ++i) same_tokens += e.tokens[i] == a.tokens[i];
      total_tokens += e.tokens.size();
      worst_scores = std::max(worst_scores, relative_l2(a.scores, e.scores));
      if (!a.logits.empty()) {
        worst_logits = std::max(worst_logits, relative_l2(a.logits, e.logits));
        ++logit_checks;
      }
      worst_features = std::max(worst_features, relative_l2(gpu.debug_features(20 + s, slot), cpu->debug_features(20 + s, slot)));
    }
  }
  const auto& stats = gpu.backend().stats();
  char detail[160];
  std::snprintf(detail, sizeof(detail), "%zu of %zu identical (%.2f%%)", same_tokens, total_tokens,
                100.0 * static_cast<double>(same_tokens) / static_cast<double>(total_tokens));
  expect(total_tokens > 0 && same_tokens * 100 >= total_tokens * 99, "batch engine tokens", detail);
  std::snprintf(detail, sizeof(detail), "worst rel_l2 %.3g (limit 1e-2)", worst_features);
  expect(worst_features <= 1e-2, "batch engine encoder features", detail);
  std::snprintf(detail, sizeof(detail), "worst rel_l2 %.3g over %zu windows (limit 1e-2)", worst_logits, logit_checks);
  expect(logit_checks > 0 && worst_logits <= 1e-2, "batch engine logits", detail);
  std::snprintf(detail, sizeof(detail), "worst rel_l2 %.3g (limit 1e-2)", worst_scores);
  expect(worst_scores <= 1e-2, "batch engine scores", detail);
  std::snprintf(detail, sizeof(detail), "%lld captures, %lld replays, %lld flushes",
                static_cast<long long>(stats.graph_captures), static_cast<long long>(stats.graph_launches),
                static_cast<long long>(stats.flushes));
  expect(!graphs || stats.graph_launches > stats.graph_captures, "batch engine graphs replayed", detail);

  // Steady state with graphs: batches of three of the four streams, a different three and
  // different slots each round. Their templates, slots and features sit at different places
  // every round, but those addresses travel through device memory (copy_blocks, patchify), and
  // three windows pad to four: after a round to see the shape and one to capture it, no round
  // captures again.
  if (graphs) {
    int64_t captures_after_warmup = 0;
    const int rounds = 8;
    for (int round = 0; round < rounds; ++round) {
      std::vector<sctdiff::StreamEncode> encodes;
      std::vector<sctdiff::StreamDecode> decodes;
      const int slots = clip + 1;
      const int newest = (round + clip - 1) % slots;
      for (int k = 0; k < 3; ++k) {
        const int stream = 20 + (round + k) % kStreams;
        sctdiff::StreamEncode encode;
        encode.stream = stream;
        encode.frames = {view(round * 3 + k)};
        encode.crops = {sctdiff::CropParams{50 + round, 40 + k, 160, xs}};
        encode.slots = {newest};
        encodes.push_back(encode);
        sctdiff::StreamDecode decode;
        decode.stream = stream;
        for (int f = 0; f < clip; ++f) {
          decode.slots.push_back((round + f) % slots);
          for (int j = 0; j < 4; ++j) decode.tokens.push_back(token(rng));
          decode.timesteps.push_back(f == clip - 1 ? config.diffusion.t_new : config.diffusion.t_refine);
        }
        decode.seed = 9000 + static_cast<uint64_t>(round * 3 + k);
        decodes.push_back(decode);
      }
      gpu.encode_batch(encodes);
      gpu.decode_batch(decodes);
      if (round == 1) captures_after_warmup = gpu.backend().stats().graph_captures;
    }
    const int64_t captures = gpu.backend().stats().graph_captures;
    std::snprintf(detail, sizeof(detail), "%lld captures after 2 rounds, %lld after %d", static_cast<long long>(captures_after_warmup),
                  static_cast<long long>(captures), rounds);
    expect(captures == captures_after_warmup, "batch engine: other streams and slots replay the same graph", detail);
  }

  // A released stream is gone on the GPU as on the CPU; the others still decode.
  gpu.release_stream(20);
  bool refused = false;
  try {
    std::vector<sctdiff::StreamDecode> one{sctdiff::StreamDecode{20, {0}, {1, 2, 3, 4}, {config.diffusion.t_new}, 1}};
    gpu.check_decode(one[0]);
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  expect(refused, "batch engine: a released stream is refused", "");
}

std::string default_weights() {
  for (const char* candidate : {"test/fixtures/goldens/weights.safetensors", "../../test/fixtures/goldens/weights.safetensors",
                                SCTDIFF_SOURCE_ROOT "/test/fixtures/goldens/weights.safetensors"}) {
    if (FILE* f = std::fopen(candidate, "rb")) {
      std::fclose(f);
      return candidate;
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess || devices == 0) {
    std::printf("skipped: no CUDA device (%s)\n", status != cudaSuccess ? cudaGetErrorString(status) : "0 devices");
    return kSkipped;
  }
  std::string reason;
  const bool has_cublaslt = sctdiff::cuda::lt::load(&reason) != nullptr;
  if (!has_cublaslt) std::printf("note: %s\n-- only the CUDA-core GEMM is checked\n", reason.c_str());
  try {
    CudaBackendOptions eager;
    eager.graphs = false;
    eager.allow_simt_gemm = true;
    run_op_checks(eager, "eager", has_cublaslt);
    CudaBackendOptions graphs = eager;
    graphs.graphs = true;
    run_op_checks(graphs, "graphs", has_cublaslt);

    std::vector<std::string> files;
    bool ops_only = false;
    for (int i = 1; i < argc; ++i) {
      if (std::string(argv[i]) == "--ops-only") ops_only = true;
      else files.push_back(argv[i]);
    }
    if (files.empty() && !ops_only) files.push_back(default_weights());
    for (const std::string& file : files) {
      if (file.empty()) {
        expect(false, "engine", "no weight file found (pass one as an argument)");
        continue;
      }
      if (!has_cublaslt) setenv("SCTDIFF_CUDA_GEMM", "simt", 0);
      check_engine(file, false, false);
      check_engine(file, true, false);
      check_engine(file, true, true);
      check_batch_engine(file, false);
      check_batch_engine(file, true);
    }
  } catch (const std::exception& e) {
    expect(false, "unexpected exception", e.what());
  }
  std::printf("consistency: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
