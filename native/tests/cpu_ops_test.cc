// The CPU backend's ops against naive double-precision references, and the symmetries the
// network relies on (a reversed conv/scan is the forward one on the flipped sequence).
//
//   cpu_ops_test
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../cpu/cpu_backend.h"
#include "../cpu/fast_math.h"
#include "../engine/preprocess.h"
#include "check.h"

using namespace sctdiff;
using sctdiff::testing::check;
using sctdiff::testing::max_abs_diff;
using sctdiff::testing::relative_l2;

namespace {

std::mt19937 rng(1234);

std::vector<float> random_vector(size_t n, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

double activate(double x, Activation act) {
  switch (act) {
    case Activation::kGelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case Activation::kSilu: return x / (1.0 + std::exp(-x));
    case Activation::kSoftplus: return x > 20.0 ? x : std::log1p(std::exp(x));
    case Activation::kNone: break;
  }
  return x;
}

void test_gemm(CpuBackend& cpu) {
  struct Case { int batch, m, n, k; float alpha, beta; bool bias; Activation act; };
  const Case cases[] = {{1, 5, 7, 3, 1, 0, false, Activation::kNone}, {1, 288, 576, 192, 1, 0, true, Activation::kNone},
                        {3, 37, 130, 64, 1, 1, true, Activation::kNone}, {2, 50, 90, 70, 0.5f, 1, false, Activation::kNone},
                        {1, 100, 300, 40, 1, 0, true, Activation::kGelu}, {1, 64, 256, 8, 1, 0, true, Activation::kSoftplus},
                        {2, 16, 33, 17, 1, 1, true, Activation::kSilu}};
  for (const Case& c : cases) {
    // A and C use padded, batch-strided layouts like the decoder's interleaved stream.
    const int64_t lda = c.k + 3, ldc = c.n + 5, ldw = c.k + 1;
    const RowLayout a_layout{c.batch, c.m, lda, (c.m + 2) * lda};
    const RowLayout c_layout{c.batch, c.m, ldc, (c.m + 4) * ldc};
    auto a = random_vector(static_cast<size_t>(c.batch * a_layout.batch_stride));
    auto w = random_vector(static_cast<size_t>(c.n * ldw), 0.2f);
    auto bias = random_vector(static_cast<size_t>(c.n));
    auto out = random_vector(static_cast<size_t>(c.batch * c_layout.batch_stride));
    std::vector<float> expected = out;
    for (int b = 0; b < c.batch; ++b)
      for (int i = 0; i < c.m; ++i)
        for (int j = 0; j < c.n; ++j) {
          double sum = c.bias ? bias[static_cast<size_t>(j)] : 0.0;
          for (int k = 0; k < c.k; ++k) sum += static_cast<double>(a[static_cast<size_t>(a_layout.offset(b, i) + k)]) * w[static_cast<size_t>(j * ldw + k)];
          float& e = expected[static_cast<size_t>(c_layout.offset(b, j < 0 ? 0 : i) + j)];
          e = static_cast<float>(c.beta * e + c.alpha * activate(sum, c.act));
        }
    GemmParams p;
    p.n = c.n;
    p.k = c.k;
    p.a = a.data();
    p.a_layout = a_layout;
    p.w = w.data();
    p.ldw = ldw;
    p.bias = c.bias ? bias.data() : nullptr;
    p.c = out.data();
    p.c_layout = c_layout;
    p.alpha = c.alpha;
    p.beta = c.beta;
    p.act = c.act;
    cpu.gemm(p);
    const double err = relative_l2(out, expected);
    check(err < 1e-6, "gemm " + std::to_string(c.batch) + "x" + std::to_string(c.m) + "x" + std::to_string(c.n) + "x" +
                          std::to_string(c.k) + " rel err " + std::to_string(err));
  }
}

void test_norms(CpuBackend& cpu) {
  const int rows = 7, dim = 96;
  const RowLayout in_layout{rows, 1, dim + 4, dim + 4};
  auto x = random_vector(static_cast<size_t>(rows * (dim + 4)), 3.0f);
  for (float& v : x) v += 2.0f;
  auto weight = random_vector(dim), bias = random_vector(dim);
  std::vector<float> ln(static_cast<size_t>(rows * dim)), rms(static_cast<size_t>(rows * dim)), ln_ref(ln.size()), rms_ref(rms.size());
  for (int r = 0; r < rows; ++r) {
    const float* row = x.data() + r * (dim + 4);
    double mean = 0, sq = 0, var = 0;
    for (int i = 0; i < dim; ++i) mean += row[i], sq += static_cast<double>(row[i]) * row[i];
    mean /= dim;
    for (int i = 0; i < dim; ++i) var += (row[i] - mean) * (row[i] - mean);
    var /= dim;
    for (int i = 0; i < dim; ++i) {
      ln_ref[static_cast<size_t>(r * dim + i)] = static_cast<float>((row[i] - mean) / std::sqrt(var + 1e-6) * weight[static_cast<size_t>(i)] + bias[static_cast<size_t>(i)]);
      rms_ref[static_cast<size_t>(r * dim + i)] = static_cast<float>(row[i] / std::sqrt(sq / dim + 1e-5) * weight[static_cast<size_t>(i)]);
    }
  }
  LayerNormParams l;
  l.dim = dim;
  l.x = x.data();
  l.x_layout = in_layout;
  l.weight = weight.data();
  l.bias = bias.data();
  l.eps = 1e-6f;
  l.out = ln.data();
  l.out_layout = RowLayout::contiguous(rows, dim);
  cpu.layer_norm(l);
  RmsNormParams r;
  r.dim = dim;
  r.x = x.data();
  r.x_layout = in_layout;
  r.weight = weight.data();
  r.eps = 1e-5f;
  r.out = rms.data();
  r.out_layout = RowLayout::contiguous(rows, dim);
  cpu.rms_norm(r);
  check(relative_l2(ln, ln_ref) < 1e-6, "layer_norm rel err " + std::to_string(relative_l2(ln, ln_ref)));
  check(relative_l2(rms, rms_ref) < 1e-6, "rms_norm rel err " + std::to_string(relative_l2(rms, rms_ref)));
}

void test_attention(CpuBackend& cpu) {
  const int batch = 2, seq = 45, heads = 3, dh = 16, width = heads * dh;
  auto qkv = random_vector(static_cast<size_t>(batch * seq * 3 * width));
  std::vector<float> out(static_cast<size_t>(batch * seq * width)), expected(out.size());
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  for (int b = 0; b < batch; ++b)
    for (int h = 0; h < heads; ++h)
      for (int i = 0; i < seq; ++i) {
        std::vector<double> s(static_cast<size_t>(seq));
        double mx = -1e300, sum = 0;
        for (int j = 0; j < seq; ++j) {
          double dot = 0;
          for (int e = 0; e < dh; ++e)
            dot += static_cast<double>(qkv[static_cast<size_t>((b * seq + i) * 3 * width + h * dh + e)]) *
                   qkv[static_cast<size_t>((b * seq + j) * 3 * width + width + h * dh + e)];
          s[static_cast<size_t>(j)] = dot * scale;
          mx = std::max(mx, dot * scale);
        }
        for (double& v : s) sum += (v = std::exp(v - mx));
        for (int e = 0; e < dh; ++e) {
          double acc = 0;
          for (int j = 0; j < seq; ++j) acc += s[static_cast<size_t>(j)] / sum * qkv[static_cast<size_t>((b * seq + j) * 3 * width + 2 * width + h * dh + e)];
          expected[static_cast<size_t>((b * seq + i) * width + h * dh + e)] = static_cast<float>(acc);
        }
      }
  AttentionParams p;
  p.batch = batch;
  p.seq = seq;
  p.heads = heads;
  p.head_dim = dh;
  p.qkv = qkv.data();
  p.out = out.data();
  p.scale = static_cast<float>(scale);
  cpu.attention(p);
  check(relative_l2(out, expected) < 1e-6, "attention rel err " + std::to_string(relative_l2(out, expected)));
}

// Flips a [L, width] matrix along the sequence.
std::vector<float> flip_rows(const std::vector<float>& m, int rows, int width) {
  std::vector<float> out(m.size());
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < width; ++c) out[static_cast<size_t>(r * width + c)] = m[static_cast<size_t>((rows - 1 - r) * width + c)];
  return out;
}

void test_conv_and_scan(CpuBackend& cpu) {
  const int L = 70, E = 96, K = 4, N = 16;
  auto x = random_vector(static_cast<size_t>(L * E));
  auto cw = random_vector(static_cast<size_t>(E * K), 0.5f), cb = random_vector(static_cast<size_t>(E), 0.1f);
  auto conv = [&](const std::vector<float>& in, bool reverse) {
    std::vector<float> out(in.size());
    CausalConv1dParams p;
    p.seq = L;
    p.channels = E;
    p.width = K;
    p.x = in.data();
    p.ldx = E;
    p.weight = cw.data();
    p.bias = cb.data();
    p.out = out.data();
    p.ldout = E;
    p.reverse = reverse;
    cpu.causal_conv1d_silu(p);
    return out;
  };
  std::vector<float> expected(static_cast<size_t>(L * E));
  for (int l = 0; l < L; ++l)
    for (int e = 0; e < E; ++e) {
      double v = cb[static_cast<size_t>(e)];
      for (int k = 0; k < K; ++k) {
        const int src = l - (K - 1) + k;
        if (src >= 0) v += static_cast<double>(cw[static_cast<size_t>(e * K + k)]) * x[static_cast<size_t>(src * E + e)];
      }
      expected[static_cast<size_t>(l * E + e)] = static_cast<float>(v / (1.0 + std::exp(-v)));
    }
  const auto forward = conv(x, false);
  check(relative_l2(forward, expected) < 1e-6, "causal conv1d vs naive");
  check(conv(x, true) == flip_rows(conv(flip_rows(x, L, E), false), L, E), "reversed conv1d == flip(conv(flip))");

  // Selective scan: u, delta (> 0), A (< 0), B/C interleaved like x_proj's output, D, z.
  const int R = 5, ld_bc = R + 2 * N;
  auto u = random_vector(static_cast<size_t>(L * E));
  auto delta = random_vector(static_cast<size_t>(L * E));
  for (float& v : delta) v = softplus_precise(v - 1.0f);
  std::vector<float> a(static_cast<size_t>(E * N));
  for (int e = 0; e < E; ++e)
    for (int n = 0; n < N; ++n) a[static_cast<size_t>(e * N + n)] = -(n + 1.0f) * (0.5f + 0.01f * e);
  auto bc = random_vector(static_cast<size_t>(L * ld_bc));
  auto d = random_vector(static_cast<size_t>(E)), z = random_vector(static_cast<size_t>(L * E));
  auto scan = [&](const std::vector<float>& uu, const std::vector<float>& dd, const std::vector<float>& bcc,
                  const std::vector<float>& zz, bool reverse, std::vector<float> out, bool accumulate) {
    SelectiveScanParams p;
    p.seq = L;
    p.channels = E;
    p.state = N;
    p.u = uu.data();
    p.ldu = E;
    p.delta = dd.data();
    p.ld_delta = E;
    p.a = a.data();
    p.b = bcc.data() + R;
    p.c = bcc.data() + R + N;
    p.ld_bc = ld_bc;
    p.d = d.data();
    p.z = zz.data();
    p.ldz = E;
    p.out = out.data();
    p.ldout = E;
    p.reverse = reverse;
    p.accumulate = accumulate;
    cpu.selective_scan(p);
    return out;
  };
  std::vector<float> ref(static_cast<size_t>(L * E));
  for (int e = 0; e < E; ++e) {
    std::vector<double> h(static_cast<size_t>(N), 0.0);
    for (int l = 0; l < L; ++l) {
      const double dt = delta[static_cast<size_t>(l * E + e)], uu = u[static_cast<size_t>(l * E + e)];
      double y = 0;
      for (int n = 0; n < N; ++n) {
        h[static_cast<size_t>(n)] = std::exp(dt * a[static_cast<size_t>(e * N + n)]) * h[static_cast<size_t>(n)] + dt * bc[static_cast<size_t>(l * ld_bc + R + n)] * uu;
        y += h[static_cast<size_t>(n)] * bc[static_cast<size_t>(l * ld_bc + R + N + n)];
      }
      const double zz = z[static_cast<size_t>(l * E + e)];
      ref[static_cast<size_t>(l * E + e)] = static_cast<float>((y + d[static_cast<size_t>(e)] * uu) * zz / (1.0 + std::exp(-zz)));
    }
  }
  const std::vector<float> zeros(static_cast<size_t>(L * E), 0.0f);
  const auto y_forward = scan(u, delta, bc, z, false, zeros, false);
  check(relative_l2(y_forward, ref) < 1e-5, "selective scan vs naive rel err " + std::to_string(relative_l2(y_forward, ref)));
  const auto y_backward = scan(u, delta, bc, z, true, zeros, false);
  const auto flipped = flip_rows(scan(flip_rows(u, L, E), flip_rows(delta, L, E), flip_rows(bc, L, ld_bc), flip_rows(z, L, E), false, zeros, false), L, E);
  check(y_backward == flipped, "reversed scan == flip(scan(flip))");
  const auto both = scan(u, delta, bc, z, true, y_forward, true);
  std::vector<float> sum(both.size());
  for (size_t i = 0; i < sum.size(); ++i) sum[i] = y_forward[i] + y_backward[i];
  check(both == sum, "accumulating scan adds onto the output");
}

void test_exp_approx() {
  double worst = 0;
  for (float x = -87.0f; x < 88.0f; x += 0.001953125f) {
    const double exact = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::fabs(exp_approx(x) - exact) / exact);
  }
  check(worst < 4e-7, "exp_approx relative error " + std::to_string(worst));
  check(exp_approx(-1000.0f) < 1e-37f && exp_approx(0.0f) == 1.0f, "exp_approx clamps and exp(0) = 1");
}

void test_patchify(CpuBackend& cpu) {
  const int batch = 2, C = 5, H = 8, W = 6, P = 2;
  auto in = random_vector(static_cast<size_t>(batch * C * H * W));
  for (bool channels_last : {false, true}) {
    std::vector<float> out(in.size());
    PatchifyParams p;
    p.batch = batch;
    p.channels = C;
    p.height = H;
    p.width = W;
    p.patch = P;
    p.channels_last = channels_last;
    p.in = in.data();
    p.out = out.data();
    cpu.patchify(p);
    bool ok = true;
    for (int b = 0; b < batch; ++b)
      for (int py = 0; py < H / P; ++py)
        for (int px = 0; px < W / P; ++px)
          for (int c = 0; c < C; ++c)
            for (int ky = 0; ky < P; ++ky)
              for (int kx = 0; kx < P; ++kx) {
                const int row = (b * (H / P) + py) * (W / P) + px;
                const int y = py * P + ky, x = px * P + kx;
                const int col = channels_last ? (ky * P + kx) * C + c : (c * P + ky) * P + kx;
                const float expected = channels_last ? in[static_cast<size_t>(((b * H + y) * W + x) * C + c)]
                                                     : in[static_cast<size_t>(((b * C + c) * H + y) * W + x)];
                ok = ok && out[static_cast<size_t>(row * C * P * P + col)] == expected;
              }
    check(ok, std::string("patchify ") + (channels_last ? "channels-last" : "channels-first"));
  }
}

// Blocks gathered from and scattered to scattered places (the batch engine's templates and
// feature slots): each block lands whole at its destination, nothing else is written.
void test_copy_blocks(CpuBackend& cpu) {
  const int count = 5;
  const int64_t elements = 37;
  auto source = random_vector(static_cast<size_t>(count * 3 * elements));
  std::vector<float> dest(static_cast<size_t>(count * 2 * elements + 11), -7.0f);
  std::vector<const float*> sources;
  std::vector<float*> destinations;
  for (int i = 0; i < count; ++i) {
    sources.push_back(source.data() + (count - 1 - i) * 3 * elements + i);  // reversed, unaligned
    destinations.push_back(dest.data() + i * 2 * elements + 3);
  }
  BlockCopyParams p;
  p.count = count;
  p.elements = elements;
  p.sources = sources.data();
  p.destinations = destinations.data();
  cpu.copy_blocks(p);
  std::vector<float> expected(dest.size(), -7.0f);
  for (int i = 0; i < count; ++i) {
    for (int64_t e = 0; e < elements; ++e) expected[static_cast<size_t>(i * 2 * elements + 3 + e)] = sources[static_cast<size_t>(i)][e];
  }
  check(dest == expected, "copy_blocks writes each block whole at its destination and nothing else");
}

// The decoder's per-window inputs for several windows in one op (each window its own seed,
// frames numbered within their window) equal one op per window.
void test_window_batched_inputs(CpuBackend& cpu) {
  const int windows = 3, frames = 4, dim = 8, G = 9;  // groups of G rows: 6 trajectory rows at row 3
  const int total = windows * frames;
  std::vector<int32_t> tokens(static_cast<size_t>(total) * 6);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>((i * 7) % 20);
  auto table = random_vector(20 * dim), pos1d = random_vector(6 * dim), temporal = random_vector(frames * dim);
  auto time_emb = random_vector(static_cast<size_t>(total) * dim), pos2d = random_vector(3 * dim);
  auto signal = random_vector(total), noise = random_vector(total);
  const uint64_t seeds[windows] = {11, 0x9e3779b97f4a7c15ull, 5};
  std::vector<float> batched(static_cast<size_t>(total) * G * dim, 0.0f), single = batched;
  auto run = [&](std::vector<float>& out, int first, int count, const uint64_t* window_seeds) {
    TrajectoryInputParams t;
    t.windows = count;
    t.frames = frames;
    t.dim = dim;
    t.tokens = tokens.data() + first * frames * 6;
    t.table = table.data();
    t.signal = signal.data() + first * frames;
    t.noise = noise.data() + first * frames;
    t.seeds = window_seeds + first;
    t.pos1d = pos1d.data();
    t.temporal = temporal.data();
    t.time_emb = time_emb.data() + static_cast<int64_t>(first) * frames * dim;
    t.out = out.data() + (static_cast<int64_t>(first) * frames * G + 3) * dim;
    t.out_layout = RowLayout{count * frames, 6, dim, static_cast<int64_t>(G) * dim};
    cpu.trajectory_input(t);
    AddRowsParams a;
    a.dim = dim;
    a.table = pos2d.data();
    a.table_ld = dim;
    a.per_batch = temporal.data();
    a.per_batch_ld = dim;
    a.per_batch_period = count > 1 ? frames : 0;
    a.out = out.data() + static_cast<int64_t>(first) * frames * G * dim;
    a.out_layout = RowLayout{count * frames, 3, dim, static_cast<int64_t>(G) * dim};
    a.overwrite = true;
    cpu.add_rows(a);
  };
  run(batched, 0, windows, seeds);
  for (int w = 0; w < windows; ++w) run(single, w, 1, seeds);
  check(batched == single, "trajectory_input and add_rows over 3 windows in one op == one op per window");
  std::vector<float> reseeded(batched.size(), 0.0f);
  const uint64_t other[windows] = {11, 12, 5};  // only window 1's seed differs
  run(reseeded, 0, windows, other);
  const size_t window = static_cast<size_t>(frames) * G * dim;
  check(std::equal(reseeded.begin(), reseeded.begin() + window, batched.begin()) &&
            !std::equal(reseeded.begin() + window, reseeded.begin() + 2 * window, batched.begin() + window) &&
            std::equal(reseeded.begin() + 2 * window, reseeded.end(), batched.begin() + 2 * window),
        "each window's noise follows its own seed only");
}

void test_top1(CpuBackend& cpu) {
  std::vector<float> logits = {1, 3, 3, 0, /* row 2 */ -1, -1, -1, -1};
  std::vector<int32_t> tokens(2);
  std::vector<float> scores(2);
  Top1Params p;
  p.vocab = 4;
  p.logits = logits.data();
  p.layout = RowLayout::contiguous(2, 4);
  p.tokens = tokens.data();
  p.scores = scores.data();
  cpu.top1(p);
  const double expected = std::exp(3.0) / (std::exp(1.0) + 2 * std::exp(3.0) + 1.0);
  check(tokens[0] == 1 && tokens[1] == 0, "top1 ties go to the lowest index");
  check(std::fabs(scores[0] - expected) < 1e-7 && std::fabs(scores[1] - 0.25f) < 1e-7, "top1 probability");
}

void test_preprocess_formats(CpuBackend& cpu) {
  // One RGB image stored as RGB, BGR, RGBA and with junk row padding must give one crop; gray
  // is replicated to three equal channels.
  const int W = 23, H = 17;
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<uint8_t> rgb(static_cast<size_t>(W * H * 3)), bgr(rgb.size()), rgba(static_cast<size_t>(W * H * 4)), padded(static_cast<size_t>((W * 3 + 7) * H));
  for (auto& v : padded) v = static_cast<uint8_t>(byte(rng));
  for (int i = 0; i < W * H; ++i)
    for (int c = 0; c < 3; ++c) {
      const uint8_t v = static_cast<uint8_t>(byte(rng));
      rgb[static_cast<size_t>(i * 3 + c)] = v;
      bgr[static_cast<size_t>(i * 3 + 2 - c)] = v;
      rgba[static_cast<size_t>(i * 4 + c)] = v;
      padded[static_cast<size_t>((i / W) * (W * 3 + 7) + (i % W) * 3 + c)] = v;
    }
  const CropParams crop{-5, 3, 29, 16};
  auto params = [](const PreprocessImage* images, int count) {
    PreprocessParams p;
    p.count = count;
    p.images = images;
    p.mean[0] = 0.485f, p.mean[1] = 0.456f, p.mean[2] = 0.406f;
    p.std[0] = 0.229f, p.std[1] = 0.224f, p.std[2] = 0.225f;
    return p;
  };
  auto run = [&](const uint8_t* data, int stride, PixelFormat format) {
    std::vector<float> out(3 * 16 * 16);
    const PreprocessImage image{FrameView{data, W, H, stride, format}, crop, out.data()};
    cpu.preprocess(params(&image, 1));
    return out;
  };
  const auto reference = run(rgb.data(), W * 3, PixelFormat::kRGB);
  check(run(bgr.data(), W * 3, PixelFormat::kBGR) == reference, "preprocess BGR == RGB");
  check(run(rgba.data(), W * 4, PixelFormat::kRGBA) == reference, "preprocess RGBA == RGB");
  check(run(padded.data(), W * 3 + 7, PixelFormat::kRGB) == reference, "preprocess ignores row padding");
  std::vector<uint8_t> gray(static_cast<size_t>(W * H));
  for (auto& v : gray) v = static_cast<uint8_t>(byte(rng));
  const auto g = run(gray.data(), W, PixelFormat::kGray);
  bool replicated = true;
  for (int i = 0; i < 16 * 16; ++i) {
    // Undo the per-channel normalization: all three channels hold the same pixel value.
    const float v0 = g[static_cast<size_t>(i)] * 0.229f + 0.485f, v2 = g[static_cast<size_t>(2 * 256 + i)] * 0.225f + 0.406f;
    replicated = replicated && std::fabs(v0 - v2) < 1e-5f;
  }
  check(replicated, "preprocess gray is replicated to three channels");
  // Left columns come from outside the frame (x0 = -5): zero pixels, i.e. -mean/std.
  check(std::fabs(reference[0] - (-0.485f / 0.229f)) < 1e-6f, "preprocess pads with zeros outside the frame");
  // Several images in one call, each with its own frame, format and crop size, equal each alone.
  const CropParams big{2, -4, 19, 24};
  std::vector<float> first(3 * 16 * 16), second(3 * 24 * 24), third(3 * 16 * 16);
  const PreprocessImage batch[3] = {{FrameView{bgr.data(), W, H, W * 3, PixelFormat::kBGR}, crop, first.data()},
                                    {FrameView{gray.data(), W, H, W, PixelFormat::kGray}, big, second.data()},
                                    {FrameView{padded.data(), W, H, W * 3 + 7, PixelFormat::kRGB}, crop, third.data()}};
  cpu.preprocess(params(batch, 3));
  std::vector<float> gray_big(second.size());
  const PreprocessImage gray_alone{FrameView{gray.data(), W, H, W, PixelFormat::kGray}, big, gray_big.data()};
  cpu.preprocess(params(&gray_alone, 1));
  check(first == reference && third == reference && second == gray_big, "preprocess: images of one call == each alone");
  cpu.preprocess(params(nullptr, 0));  // an empty call does nothing
}

void test_thread_pool() {
  ThreadPool pool(3);
  bool ok = true;
  for (int round = 0; round < 200; ++round) {
    const int count = round % 17;
    std::vector<int> hits(static_cast<size_t>(count), 0);
    pool.parallel_for(count, [&](int i, int worker) {
      hits[static_cast<size_t>(i)] += 1;
      if (worker < 0 || worker >= pool.size()) hits[static_cast<size_t>(i)] += 100;
    });
    for (int h : hits) ok = ok && h == 1;
  }
  check(ok, "thread pool runs every task exactly once");
}

}  // namespace

int main() {
  for (int threads : {1, 2}) {
    CpuBackend cpu(threads);
    test_gemm(cpu);
    test_norms(cpu);
    test_attention(cpu);
    test_conv_and_scan(cpu);
    test_patchify(cpu);
    test_copy_blocks(cpu);
    test_window_batched_inputs(cpu);
    test_top1(cpu);
    test_preprocess_formats(cpu);
  }
  test_exp_approx();
  test_thread_pool();
  std::printf("%s: %d failure(s)\n", testing::failures() == 0 ? "PASS" : "FAIL", testing::failures());
  return testing::failures() == 0 ? 0 : 1;
}
