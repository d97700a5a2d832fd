#include "weight_cache.h"

#include <algorithm>
#include <stdexcept>

#include "weights.h"

namespace sctdiff {

WeightCache& WeightCache::process() {
  static WeightCache* cache = new WeightCache();  // intentionally leaked, see the header
  return *cache;
}

void WeightCache::prune() {
  for (auto it = slots_.begin(); it != slots_.end();) {
    if (!it->second.loading && it->second.weights.expired()) {
      it = slots_.erase(it);
    } else {
      ++it;
    }
  }
}

std::shared_ptr<const DeviceWeights> WeightCache::acquire(const WeightFile& file, const WeightPlacement& placement) {
  if (!file.identity()) {
    throw std::invalid_argument("Expected a weight file opened from disk for shared weights but received \"" +
                                file.path() + "\", which was read from memory");
  }
  if (!placement.shareable()) {
    throw std::invalid_argument("Expected a shareable weight placement (a memory space and an allocator) but received " +
                                std::string(placement.memory_space.empty() ? "no memory space" : "no allocator"));
  }
  const Key key{*file.identity(), placement.memory_space};
  std::unique_lock<std::mutex> lock(mutex_);
  prune();
  for (;;) {
    Slot& slot = slots_[key];
    if (auto live = slot.weights.lock()) return live;
    if (!slot.loading) break;
    loaded_.wait(lock);  // another engine is loading this set: use theirs
  }
  slots_[key].loading = true;
  lock.unlock();

  std::shared_ptr<const DeviceWeights> built;
  try {
    // Not make_shared: the slot's weak reference would keep that one allocation alive.
    built.reset(new DeviceWeights(placement.allocator, file));
  } catch (...) {
    lock.lock();
    slots_[key].loading = false;
    loaded_.notify_all();
    throw;
  }

  lock.lock();
  Slot& slot = slots_[key];  // still there: prune() keeps slots that are loading
  slot.weights = built;
  slot.loading = false;
  slot.id = next_id_++;
  loaded_.notify_all();
  return built;
}

std::vector<WeightSetInfo> WeightCache::live() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<WeightSetInfo> sets;
  for (const auto& [key, slot] : slots_) {
    auto weights = slot.weights.lock();
    if (!weights) continue;
    WeightSetInfo info;
    info.id = slot.id;
    info.path = key.file.canonical_path;
    info.memory_space = key.memory_space;
    info.engines = weights.use_count() - 1;  // not counting `weights` itself
    info.bytes = weights->bytes();
    sets.push_back(std::move(info));
  }
  std::sort(sets.begin(), sets.end(), [](const WeightSetInfo& a, const WeightSetInfo& b) { return a.id < b.id; });
  return sets;
}

}  // namespace sctdiff
