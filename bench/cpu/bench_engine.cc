// Times tracking steps of the native CPU engine on a goldens directory's weights and frames
// (training/make_goldens.py). One step = what the tracker does per stride of 3 frames:
// preprocess + encode 3 new frames, then decode a window of 6. Prints one JSON line.
//
//   bench_cpu <goldens dir> <threads> <steps> [warmup]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/weights.h"
#include "golden_set.h"

using namespace sctdiff;

namespace {

PixelFormat parse_format(const std::string& name) {
  if (name == "bgr") return PixelFormat::kBGR;
  if (name == "rgba") return PixelFormat::kRGBA;
  if (name == "gray") return PixelFormat::kGray;
  return PixelFormat::kRGB;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// CPU time of the whole process (all threads) in ms: less sensitive than wall time to other
// processes competing for the cores.
double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

std::string json_list(const std::vector<double>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "]";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <goldens dir> <threads> <steps> [warmup]\n", argv[0]);
    return 2;
  }
  const int threads = std::atoi(argv[2]), steps = std::atoi(argv[3]);
  const int warmup = argc > 4 ? std::atoi(argv[4]) : 3;
  sctdiff::testing::GoldenSet goldens(argv[1]);
  const auto& m = goldens.manifest();
  auto engine = create_cpu_engine(WeightFile::open(goldens.dir() + "/" + m.at("weights").get<std::string>()), threads);
  const int clip = engine->config().decoder.clip_len;

  std::vector<std::vector<uint8_t>> bytes;
  std::vector<FrameView> frames;
  for (const auto& f : m.at("frames")) bytes.push_back(goldens.array<uint8_t>(f.at("data")));
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto& f = m.at("frames")[i];
    frames.push_back(FrameView{bytes[i].data(), f.at("width"), f.at("height"), f.at("stride"), parse_format(f.at("format"))});
  }
  std::vector<FrameView> crop_frames;
  std::vector<CropParams> crops;
  for (const auto& e : m.at("preprocess")) {
    crop_frames.push_back(frames.at(e.at("frame").get<size_t>()));
    const auto& c = e.at("crop");
    crops.push_back(CropParams{c.at("x0"), c.at("y0"), c.at("side"), c.at("outputSize")});
  }
  engine->set_template(0, crop_frames[0], crops[0]);
  engine->set_template(1, crop_frames[1], crops[1]);
  // Search crops: preprocess entries 2.. (one per frame); the window cycles through them.
  const int searches = static_cast<int>(crops.size()) - 2;
  const auto& decode = m.at("decode")[0];
  const auto window_tokens = goldens.array<int32_t>(decode.at("tokens"));
  const auto window_timesteps = goldens.array<int32_t>(decode.at("timesteps"));

  // Prime all window slots.
  for (int s = 0; s < 2 * clip; ++s) engine->encode({crop_frames[2 + s % searches]}, {crops[2 + s % searches]}, {s});

  std::vector<double> step_ms, encode_ms, decode_ms, cpu_ms;
  int ring = 0;
  for (int i = 0; i < warmup + steps; ++i) {
    std::vector<FrameView> new_frames;
    std::vector<CropParams> new_crops;
    std::vector<int> new_slots;
    for (int j = 0; j < 3; ++j) {
      const int k = (ring + j) % searches;
      new_frames.push_back(crop_frames[2 + k]);
      new_crops.push_back(crops[2 + k]);
      new_slots.push_back((ring + j) % (2 * clip));
    }
    std::vector<int> window;
    for (int j = 0; j < clip; ++j) window.push_back((ring + 3 - clip + j + 2 * clip) % (2 * clip));
    const double cpu_start = process_cpu_ms();
    const auto start = std::chrono::steady_clock::now();
    engine->encode(new_frames, new_crops, new_slots);
    const double encoded = ms_since(start);
    const auto out = engine->decode(window, window_tokens, window_timesteps, 12345 + static_cast<uint64_t>(i));
    const double total = ms_since(start);
    const double cpu = process_cpu_ms() - cpu_start;
    if (out.tokens.size() != static_cast<size_t>(4 * clip)) return 1;
    if (i >= warmup) {
      step_ms.push_back(total);
      encode_ms.push_back(encoded);
      decode_ms.push_back(total - encoded);
      cpu_ms.push_back(cpu);
    }
    ring = (ring + 3) % (2 * clip);
  }
  std::printf("{\"engine\":\"sct-diff cpu\",\"config\":\"%s\",\"threads\":%d,\"step_ms\":%s,\"encode_ms\":%s,\"decode_ms\":%s,\"cpu_ms\":%s}\n",
              engine->config().name.c_str(), threads, json_list(step_ms).c_str(), json_list(encode_ms).c_str(),
              json_list(decode_ms).c_str(), json_list(cpu_ms).c_str());
  return 0;
}
