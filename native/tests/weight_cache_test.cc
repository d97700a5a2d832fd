// The process-wide weight cache (native/engine/weight_cache.h): engines of one model file and
// memory space share one set of DeviceWeights, loaded once even when engines start together,
// freed with the last engine; a file rewritten on disk, another file or another memory space
// gets its own set; weights read from memory are never shared; a failed load leaves no trace.
//
//   weight_cache_test <goldens dir>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../cpu/host_allocator.h"
#include "../engine/engine.h"
#include "../engine/weight_cache.h"
#include "../engine/weights.h"
#include "check.h"
#include "golden_inputs.h"
#include "golden_set.h"

using namespace sctdiff;
using sctdiff::testing::check;
using sctdiff::testing::GoldenInputs;
using sctdiff::testing::load_inputs;

namespace {

// Host memory that counts what it hands out, and can be told to fail.
class CountingAllocator final : public DeviceAllocator {
 public:
  void* allocate(size_t bytes) override {
    if (fail) throw std::bad_alloc();
    ++allocations;
    return host_allocator()->allocate(bytes);
  }
  void release(void* ptr) override {
    ++releases;
    host_allocator()->release(ptr);
  }
  void upload(void* dst, const void* src, size_t bytes) override { host_allocator()->upload(dst, src, bytes); }
  void download(void* dst, const void* src, size_t bytes) override { host_allocator()->download(dst, src, bytes); }

  std::atomic<int> allocations{0}, releases{0};
  std::atomic<bool> fail{false};
};

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("Cannot open " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("Cannot write " + path);
}

// Moves the file's modification time `seconds` into the future, as a rewrite would.
void touch_forward(const std::string& path, int seconds) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) throw std::runtime_error("Cannot stat " + path);
  struct timespec times[2] = {info.st_atim, info.st_mtim};
  times[1].tv_sec += seconds;
  if (utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) throw std::runtime_error("Cannot set the times of " + path);
}

// Templates, three encoded frames and one decode: what a tracking step does.
DecodeOutput step(Engine& engine, const GoldenInputs& in) {
  engine.set_template(0, in.frames[0], in.crops[0]);
  engine.set_template(1, in.frames[1], in.crops[1]);
  engine.encode({in.frames[2], in.frames[3], in.frames[4]}, {in.crops[2], in.crops[3], in.crops[4]}, {0, 1, 2});
  const ModelConfig& config = engine.config();
  const std::vector<int32_t> tokens = {100, 120, 300, 320, 110, 130, 310, 330, 105, 125, 305, 325};
  return engine.debug_decode({0, 1, 2}, tokens, {config.diffusion.t_refine, config.diffusion.t_new, config.diffusion.t_new}, 42);
}

bool same(const DecodeOutput& a, const DecodeOutput& b) {
  return a.tokens == b.tokens && a.scores == b.scores && a.logits == b.logits;  // bit-identical
}

void cache_alone(const std::string& model, const std::string& other_model) {
  WeightCache cache;
  auto counting = std::make_shared<CountingAllocator>();
  const WeightPlacement placement{"test", counting};
  const size_t tensors = WeightFile::open(model)->tensors().size();

  // Two engines open the file separately: one load, one set.
  {
    auto a = cache.acquire(*WeightFile::open(model), placement);
    auto b = cache.acquire(*WeightFile::open(model), placement);
    check(a == b, "two opens of one file share one set");
    check(counting->allocations == static_cast<int>(tensors), "one load: " + std::to_string(counting->allocations) + " allocations for " + std::to_string(tensors) + " tensors");
    const auto live = cache.live();
    check(live.size() == 1, "one live set, got " + std::to_string(live.size()));
    if (live.size() == 1) {
      check(live[0].engines == 2, "the set has 2 users, got " + std::to_string(live[0].engines));
      check(live[0].memory_space == "test", "memory space reported");
      check(live[0].bytes == a->bytes() && a->bytes() > 0, "bytes reported");
      check(live[0].path == WeightFile::open(model)->identity()->canonical_path, "canonical path reported");
    }
    // Another memory space and another file have sets of their own.
    auto elsewhere = cache.acquire(*WeightFile::open(model), WeightPlacement{"elsewhere", counting});
    auto other = cache.acquire(*WeightFile::open(other_model), placement);
    check(elsewhere != a && other != a && other != elsewhere, "another space or file: another set");
    check(cache.live().size() == 3, "three live sets");
  }
  check(cache.live().empty(), "sets freed with their last user, " + std::to_string(cache.live().size()) + " left");
  check(counting->allocations == counting->releases, "every allocation released: " + std::to_string(counting->allocations) + " / " + std::to_string(counting->releases));

  // A file rewritten on disk (new mtime) is loaded afresh while the old set lives on.
  {
    auto before = cache.acquire(*WeightFile::open(model), placement);
    write_bytes(model, read_bytes(model));
    touch_forward(model, 5);
    auto after = cache.acquire(*WeightFile::open(model), placement);
    check(after != before, "a rewritten file gets a new set");
    const auto live = cache.live();
    check(live.size() == 2 && live[0].id < live[1].id, "old and new set alive, ids in load order");
  }

  // Weights read from memory have no file identity: never shared.
  try {
    cache.acquire(*WeightFile::from_bytes(read_bytes(model), "in-memory"), placement);
    check(false, "from_bytes weights were accepted by the cache");
  } catch (const std::invalid_argument& e) {
    check(std::string(e.what()).rfind("Expected a weight file opened from disk", 0) == 0, std::string("message: ") + e.what());
  }

  // A failed load propagates and leaves no set behind; the next engine loads again.
  counting->fail = true;
  try {
    cache.acquire(*WeightFile::open(model), placement);
    check(false, "a failing allocator did not fail the load");
  } catch (const std::bad_alloc&) {
  }
  counting->fail = false;
  check(cache.live().empty(), "no set after a failed load");
  check(cache.acquire(*WeightFile::open(model), placement) != nullptr, "a load after a failed one works");

  // Engines starting together: one loads, the others wait for it.
  const int kThreads = 6;
  const int before = counting->allocations;
  std::vector<std::shared_ptr<const DeviceWeights>> got(kThreads);
  std::mutex mutex;
  std::condition_variable go;
  bool start = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto file = WeightFile::open(model);
      {
        std::unique_lock<std::mutex> lock(mutex);
        go.wait(lock, [&] { return start; });
      }
      got[static_cast<size_t>(i)] = cache.acquire(*file, placement);
    });
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    start = true;
  }
  go.notify_all();
  for (auto& thread : threads) thread.join();
  bool all_same = true;
  for (const auto& weights : got) all_same = all_same && weights == got[0];
  check(all_same, "concurrent acquires share one set");
  check(counting->allocations - before == static_cast<int>(tensors), "concurrent acquires load once: " + std::to_string(counting->allocations - before) + " allocations");
}

void engines_share(const std::string& model, const GoldenInputs& in) {
  check(WeightCache::process().live().empty(), "no set before the engines");
  DecodeOutput lone;
  {
    auto engine = create_cpu_engine(WeightFile::open(model), 1);
    lone = step(*engine, in);
  }
  check(WeightCache::process().live().empty(), "the lone engine's set freed with it");
  {
    // Other thread counts, the same host weights.
    auto a = create_cpu_engine(WeightFile::open(model), 1);
    auto b = create_cpu_engine(WeightFile::open(model), 2);
    const auto live = WeightCache::process().live();
    check(live.size() == 1 && live[0].engines == 2 && live[0].memory_space == "host", "two CPU engines, one host set");
    check(same(step(*a, in), lone), "engine 1 of 2 == the lone engine, bit for bit");
    check(same(step(*b, in), lone), "engine 2 of 2 == the lone engine, bit for bit");
    // Weights read from memory stay private to their engine.
    auto private_engine = create_cpu_engine(WeightFile::from_bytes(read_bytes(model), "in-memory"), 1);
    check(WeightCache::process().live().size() == 1, "an engine on in-memory weights adds no shared set");
    check(same(step(*private_engine, in), lone), "private weights == shared weights");
  }
  check(WeightCache::process().live().empty(), "the shared set freed with the last engine");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <goldens dir>\n", argv[0]);
    return 2;
  }
  char dir_template[] = "/tmp/sctdiff-weight-cache-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) {
    std::printf("FAIL cannot create a temporary folder\n");
    return 1;
  }
  const std::string model = std::string(dir) + "/model.safetensors";
  const std::string other_model = std::string(dir) + "/other.safetensors";
  try {
    sctdiff::testing::GoldenSet goldens(argv[1]);
    const std::string source = goldens.dir() + "/" + goldens.manifest().at("weights").get<std::string>();
    write_bytes(model, read_bytes(source));
    write_bytes(other_model, read_bytes(source));
    cache_alone(model, other_model);
    engines_share(model, load_inputs(goldens));
  } catch (const std::exception& e) {
    std::printf("FAIL exception: %s\n", e.what());
    testing::failures()++;
  }
  std::remove(model.c_str());
  std::remove(other_model.c_str());
  rmdir(dir);
  std::printf("%s: %d failure(s)\n", testing::failures() == 0 ? "PASS" : "FAIL", testing::failures());
  return testing::failures() == 0 ? 0 : 1;
}
