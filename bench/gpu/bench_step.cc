// The CUDA engine's step benchmark, through the same C ABI the addon uses (dlopen of
// libsctdiff_cuda.so). A step is the tracker's overlap-0.5 step of docs/reference/gpu-baseline.md:
// 3 new uint8 frames uploaded, cropped and encoded, then the decoder over the 6-frame window
// and the read-back of its tokens and scores. Two ways to serve N streams, measured side by side:
//  - "engines": independent engines (own CUDA stream; fp32 weights shared per device,
//    native/engine/weight_cache.h) stepped from one host thread each;
//  - "batched": one batch engine (sctdiff_cuda_create_batch_engine, what an EngineGroup opens)
//    stepping all N streams together: one encode batch of 3N frames, one decode batch of N
//    windows per step (the case where every stream's frame arrives at once).
//
//   sctdiff_cuda_bench --lib build/cuda/libsctdiff_cuda.so --weights b256.safetensors
//                      [--streams 1,4,16] [--steps 200] [--warmup 30] [--frames raw.rgb --size WxH]
//
// Prints one JSON object per measurement (for scripts/gpu-check.sh) and a table. Each object has
// the step times, FPS, and per step the graph replays, eager launches and frame uploads: in steady
// state one replay, no eager op and one upload per step are what the design expects.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cuda/sctdiff_cuda.h"
#include "engine/batch_engine.h"
#include "engine/engine.h"

namespace {

struct Library {
  int (*abi_version)() = nullptr;
  int (*probe)(int, char*, size_t) = nullptr;
  int (*create)(const char*, int, void**, char*, size_t) = nullptr;
  void (*destroy)(void*) = nullptr;
  int (*stats)(void*, char*, size_t) = nullptr;
  int (*create_batch)(const char*, int, void**, char*, size_t) = nullptr;
  void (*destroy_batch)(void*) = nullptr;
  int (*batch_stats)(void*, char*, size_t) = nullptr;
};

template <typename Fn>
void bind(void* handle, const char* name, Fn* out) {
  *out = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*out == nullptr) {
    std::fprintf(stderr, "bench: %s missing from the library\n", name);
    std::exit(2);
  }
}

struct Options {
  std::string lib = "build/cuda/libsctdiff_cuda.so", weights, frames_file;
  std::vector<int> streams{1, 4, 16};
  int steps = 200, warmup = 30, width = 640, height = 360;
};

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find(',', start);
    out.push_back(std::atoi(text.substr(start, end - start).c_str()));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// Frames: a raw RGB24 file (e.g. `ffmpeg -i video.mp4 -f rawvideo -pix_fmt rgb24 -s 640x360 out.rgb`)
// or, without one, smooth synthetic frames.
std::vector<std::vector<uint8_t>> load_frames(const Options& o) {
  const size_t bytes = static_cast<size_t>(o.width) * o.height * 3;
  std::vector<std::vector<uint8_t>> frames;
  if (!o.frames_file.empty()) {
    std::ifstream in(o.frames_file, std::ios::binary);
    std::vector<uint8_t> frame(bytes);
    while (frames.size() < 64 && in.read(reinterpret_cast<char*>(frame.data()), static_cast<std::streamsize>(bytes))) {
      frames.push_back(frame);
    }
    if (frames.empty()) {
      std::fprintf(stderr, "bench: no %dx%d RGB frame in %s\n", o.width, o.height, o.frames_file.c_str());
      std::exit(2);
    }
    return frames;
  }
  std::mt19937 rng(1);
  for (int i = 0; i < 16; ++i) {
    std::vector<uint8_t> frame(bytes);
    for (int y = 0; y < o.height; ++y) {
      for (int x = 0; x < o.width; ++x) {
        for (int c = 0; c < 3; ++c) {
          const double v = 128 + 100 * std::sin(0.02 * x * (c + 1) + 0.03 * y + 0.1 * i) + (rng() % 16);
          frame[(static_cast<size_t>(y) * o.width + x) * 3 + c] = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
        }
      }
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

// Frame `i` of the benchmark's frames (cycled), and the search or template crop of step `i`:
// a region that moves and resizes a little every step, as a tracked target's does.
sctdiff::FrameView frame_view(const std::vector<std::vector<uint8_t>>& frames, int i, int width, int height) {
  const auto& frame = frames[static_cast<size_t>(i) % frames.size()];
  return sctdiff::FrameView{frame.data(), width, height, width * 3, sctdiff::PixelFormat::kRGB};
}

sctdiff::CropParams moving_crop(int size, int i, int width, int height) {
  const int side = std::min(width, height) / 2 + (i % 7) * 3;
  return sctdiff::CropParams{width / 4 + (i % 5) * 4, height / 4 - (i % 3) * 5, side, size};
}

// One tracker-like stream: templates set once, then steps of 3 new frames + a 6-frame decode.
class Stream {
 public:
  Stream(sctdiff::Engine* engine, const std::vector<std::vector<uint8_t>>* frames, int width, int height, int seed)
      : engine_(engine), frames_(frames), width_(width), height_(height), rng_(seed) {
    const auto& config = engine_->config();
    engine_->set_template(0, view(0), crop(engine_->config().encoder.template_size, 0));
    engine_->set_template(1, view(1), crop(config.encoder.template_size, 1));
    // Every feature slot holds a frame before the first window is decoded.
    for (int slot = 0; slot < 2 * config.decoder.clip_len; ++slot) {
      engine_->encode({view(slot)}, {crop(config.encoder.search_size, slot)}, {slot});
    }
  }

  // Returns the decoder's share of the step in seconds when `time_decoder` (the encode is
  // synchronized first, which costs the overlap), else 0.
  double step(bool time_decoder) {
    const auto& config = engine_->config();
    const int clip = config.decoder.clip_len, fresh = std::max(1, clip / 2);
    std::vector<sctdiff::FrameView> views;
    std::vector<sctdiff::CropParams> crops;
    std::vector<int> slots;
    for (int i = 0; i < fresh; ++i) {
      views.push_back(view(counter_ + i));
      crops.push_back(crop(config.encoder.search_size, counter_ + i));
      slots.push_back((counter_ + i) % (2 * clip));
    }
    engine_->encode(views, crops, slots);
    counter_ += fresh;
    std::vector<int> window;
    std::vector<int32_t> tokens, timesteps;
    for (int f = clip; f >= 1; --f) {
      window.push_back(((counter_ - f) % (2 * clip) + 2 * clip) % (2 * clip));
      for (int j = 0; j < 4; ++j) tokens.push_back(static_cast<int32_t>(rng_() % config.tokens.bins));
      timesteps.push_back(f <= fresh ? config.diffusion.t_new : config.diffusion.t_refine);
    }
    if (time_decoder) (void)engine_->debug_features(slots.back());  // waits for the encoder
    const auto start = std::chrono::steady_clock::now();
    const sctdiff::DecodeOutput out = engine_->decode(window, tokens, timesteps, rng_());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    checksum_ += out.tokens.empty() ? 0 : out.tokens[0];
    return time_decoder ? seconds : 0.0;
  }

 private:
  sctdiff::FrameView view(int i) const { return frame_view(*frames_, i, width_, height_); }
  sctdiff::CropParams crop(int size, int i) const { return moving_crop(size, i, width_, height_); }

  sctdiff::Engine* engine_;
  const std::vector<std::vector<uint8_t>>* frames_;
  int width_, height_, counter_ = 2;
  std::mt19937_64 rng_;
  int64_t checksum_ = 0;
};

// N tracker-like streams on one batch engine, stepped together: the same requests as N
// Stream objects, handed over as one encode batch and one decode batch.
class BatchedStreams {
 public:
  BatchedStreams(sctdiff::BatchEngine* engine, const std::vector<std::vector<uint8_t>>* frames, int width, int height,
                 int streams)
      : engine_(engine), frames_(frames), width_(width), height_(height), streams_(streams), rng_(7) {
    const auto& config = engine_->config();
    for (int s = 0; s < streams_; ++s) {
      engine_->set_template(s, 0, view(s), crop(config.encoder.template_size, s));
      engine_->set_template(s, 1, view(s + 1), crop(config.encoder.template_size, s + 1));
    }
    const int slots = 2 * config.decoder.clip_len;
    for (int slot = 0; slot < slots; ++slot) {
      std::vector<sctdiff::StreamEncode> requests;
      for (int s = 0; s < streams_; ++s) {
        requests.push_back(sctdiff::StreamEncode{s, {view(slot + s)}, {crop(config.encoder.search_size, slot + s)}, {slot}});
      }
      engine_->encode_batch(requests);
    }
  }

  void step() {
    const auto& config = engine_->config();
    const int clip = config.decoder.clip_len, fresh = std::max(1, clip / 2), slots = 2 * clip;
    std::vector<sctdiff::StreamEncode> encodes;
    std::vector<sctdiff::StreamDecode> decodes;
    for (int s = 0; s < streams_; ++s) {
      sctdiff::StreamEncode encode;
      encode.stream = s;
      for (int i = 0; i < fresh; ++i) {
        encode.frames.push_back(view(counter_ + i + s));
        encode.crops.push_back(crop(config.encoder.search_size, counter_ + i + s));
        encode.slots.push_back((counter_ + i) % slots);
      }
      encodes.push_back(std::move(encode));
    }
    engine_->encode_batch(encodes);
    counter_ += fresh;
    for (int s = 0; s < streams_; ++s) {
      sctdiff::StreamDecode decode;
      decode.stream = s;
      for (int f = clip; f >= 1; --f) {
        decode.slots.push_back(((counter_ - f) % slots + slots) % slots);
        for (int j = 0; j < 4; ++j) decode.tokens.push_back(static_cast<int32_t>(rng_() % config.tokens.bins));
        decode.timesteps.push_back(f <= fresh ? config.diffusion.t_new : config.diffusion.t_refine);
      }
      decode.seed = rng_();
      decodes.push_back(std::move(decode));
    }
    const auto outputs = engine_->decode_batch(decodes);
    for (const auto& out : outputs) checksum_ += out.tokens.empty() ? 0 : out.tokens[0];
  }

 private:
  sctdiff::FrameView view(int i) const { return frame_view(*frames_, i, width_, height_); }
  sctdiff::CropParams crop(int size, int i) const { return moving_crop(size, i, width_, height_); }

  sctdiff::BatchEngine* engine_;
  const std::vector<std::vector<uint8_t>>* frames_;
  int width_, height_, streams_, counter_ = 2;
  std::mt19937_64 rng_;
  int64_t checksum_ = 0;
};

// A count from the engine stats JSON (`"key": n`); -1 when absent. The bench reads back only
// what sctdiff_cuda_engine_stats writes, so a plain search is enough.
long long stat_count(const char* json, const char* key) {
  const std::string needle = std::string("\"") + key + "\": ";
  const char* at = std::strstr(json, needle.c_str());
  return at == nullptr ? -1 : std::atoll(at + needle.size());
}

// What the engine did per step between two stats snapshots: graph replays, eager launches and
// frame uploads.
std::string per_step_counts(const char* before, const char* after, int steps) {
  char text[256];
  auto rate = [&](const char* key) {
    const long long a = stat_count(after, key), b = stat_count(before, key);
    return a < 0 || b < 0 || steps <= 0 ? NAN : static_cast<double>(a - b) / steps;
  };
  std::snprintf(text, sizeof(text), "\"graph_launches_per_step\": %.2f, \"eager_ops_per_step\": %.2f, \"frame_uploads_per_step\": %.2f",
                rate("graph_launches"), rate("eager_ops"), rate("frame_uploads"));
  return text;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * static_cast<double>(values.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--lib") o.lib = value;
    else if (key == "--weights") o.weights = value;
    else if (key == "--streams") o.streams = parse_list(value);
    else if (key == "--steps") o.steps = std::atoi(value.c_str());
    else if (key == "--warmup") o.warmup = std::atoi(value.c_str());
    else if (key == "--frames") o.frames_file = value;
    else if (key == "--size") std::sscanf(value.c_str(), "%dx%d", &o.width, &o.height);
    else {
      std::fprintf(stderr, "bench: unknown option %s\n", key.c_str());
      return 2;
    }
  }
  if (o.weights.empty()) {
    std::fprintf(stderr, "usage: %s --weights file.safetensors [--lib libsctdiff_cuda.so] [--streams 1,4,16]\n", argv[0]);
    return 2;
  }
  void* handle = dlopen(o.lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::fprintf(stderr, "bench: %s\n", dlerror());
    return 2;
  }
  Library lib;
  bind(handle, "sctdiff_cuda_abi_version", &lib.abi_version);
  bind(handle, "sctdiff_cuda_probe", &lib.probe);
  bind(handle, "sctdiff_cuda_create_engine", &lib.create);
  bind(handle, "sctdiff_cuda_destroy_engine", &lib.destroy);
  bind(handle, "sctdiff_cuda_engine_stats", &lib.stats);
  bind(handle, "sctdiff_cuda_create_batch_engine", &lib.create_batch);
  bind(handle, "sctdiff_cuda_destroy_batch_engine", &lib.destroy_batch);
  bind(handle, "sctdiff_cuda_batch_engine_stats", &lib.batch_stats);
  if (lib.abi_version() != SCTDIFF_CUDA_ABI_VERSION) {
    std::fprintf(stderr, "bench: library ABI %d, expected %d\n", lib.abi_version(), SCTDIFF_CUDA_ABI_VERSION);
    return 2;
  }
  char info[512];
  if (lib.probe(0, info, sizeof(info)) != SCTDIFF_CUDA_OK) {
    std::printf("skipped: %s\n", info);
    return 77;
  }
  std::printf("{\"device\": \"%s\"}\n", info);
  const auto frames = load_frames(o);

  std::printf("%-8s %-8s %12s %12s %12s %12s %14s\n", "streams", "mode", "step p50 ms", "step p90 ms", "dec p50 ms",
              "FPS total", "FPS per stream");
  for (int streams : o.streams) {
    std::vector<void*> engines(static_cast<size_t>(streams), nullptr);
    for (auto& engine : engines) {
      char error[1024];
      if (lib.create(o.weights.c_str(), 0, &engine, error, sizeof(error)) != SCTDIFF_CUDA_OK) {
        std::fprintf(stderr, "bench: %s\n", error);
        return 1;
      }
    }
    std::vector<std::unique_ptr<Stream>> runners;
    for (int s = 0; s < streams; ++s) {
      runners.push_back(std::make_unique<Stream>(static_cast<sctdiff::Engine*>(engines[static_cast<size_t>(s)]), &frames,
                                                 o.width, o.height, 100 + s));
    }
    // Decoder alone (single stream only): encode synchronized first, then the decode timed.
    std::vector<double> decoder_ms;
    if (streams == 1) {
      for (int i = 0; i < o.warmup + o.steps; ++i) {
        const double s = runners[0]->step(true);
        if (i >= o.warmup) decoder_ms.push_back(s * 1e3);
      }
    }
    std::vector<std::vector<double>> step_ms(static_cast<size_t>(streams));
    auto run = [&](int s) {
      for (int i = 0; i < o.warmup + o.steps; ++i) {
        const auto start = std::chrono::steady_clock::now();
        runners[static_cast<size_t>(s)]->step(false);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        if (i >= o.warmup) step_ms[static_cast<size_t>(s)].push_back(ms);
      }
    };
    char stats_before[512];
    lib.stats(engines[0], stats_before, sizeof(stats_before));
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int s = 0; s < streams; ++s) threads.emplace_back(run, s);
    for (auto& t : threads) t.join();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<double> all;
    for (const auto& v : step_ms) all.insert(all.end(), v.begin(), v.end());
    // Throughput over the whole run (warm-up included in the wall time, so it is conservative).
    const int fresh = std::max(1, runners.empty() ? 3 : static_cast<sctdiff::Engine*>(engines[0])->config().decoder.clip_len / 2);
    const double fps = static_cast<double>(streams) * (o.warmup + o.steps) * fresh / wall;
    char stats[512];
    lib.stats(engines[0], stats, sizeof(stats));
    // Engine 0's counts over its warm-up and timed steps (warm-up includes the captures).
    std::printf("{\"streams\": %d, \"mode\": \"engines\", \"step_ms_p50\": %.4f, \"step_ms_p90\": %.4f, "
                "\"decoder_ms_p50\": %.4f, \"fps_total\": %.1f, %s, \"engine0\": %s}\n",
                streams, percentile(all, 0.5), percentile(all, 0.9), percentile(decoder_ms, 0.5), fps,
                per_step_counts(stats_before, stats, o.warmup + o.steps).c_str(), stats);
    std::printf("%-8d %-8s %12.3f %12.3f %12.3f %12.0f %14.0f\n", streams, "engines", percentile(all, 0.5),
                percentile(all, 0.9), percentile(decoder_ms, 0.5), fps, fps / streams);
    runners.clear();
    for (void* engine : engines) lib.destroy(engine);

    // The same streams on one batch engine, stepped together (one host thread).
    if (streams > 1) {
      void* batch = nullptr;
      char error[1024];
      if (lib.create_batch(o.weights.c_str(), 0, &batch, error, sizeof(error)) != SCTDIFF_CUDA_OK) {
        std::fprintf(stderr, "bench: %s\n", error);
        return 1;
      }
      {
        BatchedStreams batched(static_cast<sctdiff::BatchEngine*>(batch), &frames, o.width, o.height, streams);
        std::vector<double> batch_ms;
        char batch_before[512] = "";
        const auto batch_start = std::chrono::steady_clock::now();
        for (int i = 0; i < o.warmup + o.steps; ++i) {
          if (i == o.warmup) lib.batch_stats(batch, batch_before, sizeof(batch_before));  // timed steps only
          const auto t0 = std::chrono::steady_clock::now();
          batched.step();
          const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
          if (i >= o.warmup) batch_ms.push_back(ms);
        }
        const double batch_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - batch_start).count();
        const double batch_fps = static_cast<double>(streams) * (o.warmup + o.steps) * fresh / batch_wall;
        lib.batch_stats(batch, stats, sizeof(stats));
        std::printf("{\"streams\": %d, \"mode\": \"batched\", \"step_ms_p50\": %.4f, \"step_ms_p90\": %.4f, "
                    "\"fps_total\": %.1f, %s, \"engine0\": %s}\n",
                    streams, percentile(batch_ms, 0.5), percentile(batch_ms, 0.9), batch_fps,
                    per_step_counts(batch_before, stats, o.steps).c_str(), stats);
        std::printf("%-8d %-8s %12.3f %12.3f %12s %12.0f %14.0f\n", streams, "batched", percentile(batch_ms, 0.5),
                    percentile(batch_ms, 0.9), "-", batch_fps, batch_fps / streams);
      }
      lib.destroy_batch(batch);
    }
  }
  return 0;
}
