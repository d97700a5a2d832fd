// Parity of the CPU engine with the PyTorch reference on a goldens directory
// (training/make_goldens.py): preprocessed crops to rounding, encoder features and decoder
// logits within relative L2 1e-5, identical tokens, the noise generator and the schedule.
//
//   parity_goldens <goldens dir> [threads]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../engine/engine.h"
#include "../engine/noise.h"
#include "../engine/schedule.h"
#include "../engine/weights.h"
#include "check.h"
#include "golden_set.h"

using namespace sctdiff;
using sctdiff::testing::check;
using sctdiff::testing::GoldenSet;

namespace {

constexpr double kPreprocessTolerance = 1e-6;  // max abs, normalized units
constexpr double kFloatTolerance = 1e-5;       // relative L2

PixelFormat parse_format(const std::string& name) {
  if (name == "rgb") return PixelFormat::kRGB;
  if (name == "bgr") return PixelFormat::kBGR;
  if (name == "rgba") return PixelFormat::kRGBA;
  if (name == "gray") return PixelFormat::kGray;
  throw std::runtime_error("Unknown pixel format " + name);
}

struct Frames {
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<FrameView> views;
};

Frames load_frames(const GoldenSet& goldens) {
  Frames frames;
  for (const auto& f : goldens.manifest().at("frames")) frames.bytes.push_back(goldens.array<uint8_t>(f.at("data")));
  size_t i = 0;
  for (const auto& f : goldens.manifest().at("frames")) {
    FrameView view;
    view.data = frames.bytes[i++].data();
    view.width = f.at("width");
    view.height = f.at("height");
    view.stride = f.at("stride");
    view.format = parse_format(f.at("format"));
    frames.views.push_back(view);
  }
  return frames;
}

CropParams parse_crop(const nlohmann::json& crop) {
  return CropParams{crop.at("x0"), crop.at("y0"), crop.at("side"), crop.at("outputSize")};
}

void report(const char* what, int index, double value, double tolerance) {
  std::printf("%-4s %-28s %d  %.3e (<= %.0e)\n", value <= tolerance ? "ok" : "FAIL", what, index, value, tolerance);
  check(value <= tolerance, std::string(what) + " " + std::to_string(index));
}

void check_noise_and_schedule(const GoldenSet& goldens, const ModelConfig& config) {
  const auto& checks = goldens.manifest().at("noise_checks");
  for (const auto& pair : checks.at("splitmix64")) {
    const uint64_t in = std::stoull(pair[0].get<std::string>()), out = std::stoull(pair[1].get<std::string>());
    check(splitmix64(in) == out, "splitmix64(" + pair[0].get<std::string>() + ")");
  }
  double worst = 0.0;
  for (const auto& entry : checks.at("gaussian")) {
    const uint64_t seed = std::stoull(entry.at("seed").get<std::string>());
    const auto indices = entry.at("index").get<std::vector<uint64_t>>();
    const auto values = entry.at("value").get<std::vector<double>>();
    for (size_t i = 0; i < indices.size(); ++i) worst = std::max(worst, std::fabs(noise_gaussian(seed, indices[i]) - values[i]));
  }
  report("gaussian (abs)", 0, worst, 1e-12);
  const auto& traj = checks.at("trajectory_noise");
  const auto noise = goldens.array<float>(traj.at("array"));
  const uint64_t noise_seed = std::stoull(traj.at("seed").get<std::string>());
  const int noise_frames = traj.at("frames"), noise_dim = traj.at("dim");
  std::vector<float> mine;
  for (int f = 0; f < noise_frames; ++f)
    for (int j = 1; j <= 4; ++j)
      for (int c = 0; c < noise_dim; ++c) mine.push_back(trajectory_noise(noise_seed, f, j, c, noise_dim));
  report("trajectory noise (max abs)", 0, testing::max_abs_diff(mine, noise), 0.0);

  const auto reference = goldens.array<double>(goldens.manifest().at("schedule").at("alphas_cumprod"));
  const auto abar = cosine_alphas_cumprod(config.diffusion.T, config.diffusion.s);
  double schedule_error = reference.size() == abar.size() ? 0.0 : INFINITY;
  for (size_t i = 0; i < abar.size() && i < reference.size(); ++i) schedule_error = std::max(schedule_error, std::fabs(abar[i] - reference[i]));
  report("alphas_cumprod (max abs)", 0, schedule_error, 1e-15);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <goldens dir> [threads]\n", argv[0]);
    return 2;
  }
  const int threads = argc > 2 ? std::atoi(argv[2]) : 0;
  try {
    GoldenSet goldens(argv[1]);
    const auto& m = goldens.manifest();
    auto weights = WeightFile::open(goldens.dir() + "/" + m.at("weights").get<std::string>());
    auto engine = create_cpu_engine(weights, threads);
    const ModelConfig& config = engine->config();
    std::printf("goldens %s: config %s, %d threads\n", goldens.dir().c_str(), config.name.c_str(), threads);
    check_noise_and_schedule(goldens, config);

    Frames frames = load_frames(goldens);
    std::vector<FrameView> crop_frames;
    std::vector<CropParams> crops;
    int index = 0;
    for (const auto& entry : m.at("preprocess")) {
      const FrameView& frame = frames.views.at(entry.at("frame").get<size_t>());
      const CropParams crop = parse_crop(entry.at("crop"));
      crop_frames.push_back(frame);
      crops.push_back(crop);
      const auto expected = goldens.array<float>(entry.at("output"));
      report("preprocess (max abs)", index++, testing::max_abs_diff(engine->debug_preprocess(frame, crop), expected), kPreprocessTolerance);
    }

    index = 0;
    int templates[2] = {-1, -1};
    for (const auto& entry : m.at("encode")) {
      for (int t = 0; t < 2; ++t) {
        const int k = entry.at(t == 0 ? "template0" : "template1");
        if (templates[t] != k) {
          engine->set_template(t, crop_frames.at(static_cast<size_t>(k)), crops.at(static_cast<size_t>(k)));
          templates[t] = k;
        }
      }
      const size_t search = entry.at("search");
      engine->encode({crop_frames.at(search)}, {crops.at(search)}, {index});
      const auto expected = goldens.array<float>(entry.at("features"));
      report("features (rel L2)", index, testing::relative_l2(engine->debug_features(index), expected), kFloatTolerance);
      ++index;
    }

    index = 0;
    for (const auto& entry : m.at("decode")) {
      const auto slots = entry.at("features").get<std::vector<int>>();
      const auto tokens = goldens.array<int32_t>(entry.at("tokens"));
      const auto timesteps = goldens.array<int32_t>(entry.at("timesteps"));
      const uint64_t seed = std::stoull(entry.at("seed").get<std::string>());
      const DecodeOutput out = engine->debug_decode(slots, tokens, timesteps, seed);
      report("logits (rel L2)", index, testing::relative_l2(out.logits, goldens.array<float>(entry.at("logits"))), kFloatTolerance);
      report("scores (rel L2)", index, testing::relative_l2(out.scores, goldens.array<float>(entry.at("scores"))), kFloatTolerance);
      const auto expected_tokens = goldens.array<int32_t>(entry.at("out_tokens"));
      int mismatched = 0;
      for (size_t i = 0; i < expected_tokens.size(); ++i) mismatched += (i >= out.tokens.size() || out.tokens[i] != expected_tokens[i]) ? 1 : 0;
      report("tokens (mismatches)", index, mismatched, 0);
      // decode() must agree with debug_decode() bit for bit.
      const DecodeOutput plain = engine->decode(slots, tokens, timesteps, seed);
      check(plain.tokens == out.tokens && plain.scores == out.scores, "decode == debug_decode " + std::to_string(index));
      ++index;
    }
  } catch (const std::exception& e) {
    std::printf("FAIL exception: %s\n", e.what());
    return 1;
  }
  std::printf("%s: %d failure(s)\n", testing::failures() == 0 ? "PASS" : "FAIL", testing::failures());
  return testing::failures() == 0 ? 0 : 1;
}
