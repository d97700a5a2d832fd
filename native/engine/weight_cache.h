// One set of DeviceWeights per model file and memory space for the whole process: engines of
// the same model (one per Tracker, each on its own worker thread) read the same read-only
// weights instead of converting and copying the file each (16 B256 trackers held 16 copies of
// ~516 MB). The cache holds weak references only: a set is freed when the last engine using it
// is destroyed, and the next engine loads the file again.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "device_allocator.h"
#include "device_weights.h"
#include "file_identity.h"

namespace sctdiff {

class WeightFile;  // weights.h

// A live weight set, as the debug hooks report it.
struct WeightSetInfo {
  uint64_t id = 0;            // unique for the life of the process; a reload gets a new one
  std::string path;           // canonical path of the file it was loaded from
  std::string memory_space;   // WeightPlacement::memory_space
  long engines = 0;           // references held (one per engine using it)
  size_t bytes = 0;           // weight memory held
};

class WeightCache {
 public:
  // The cache every engine of this process uses. Never destroyed, so engines disposed while the
  // process exits (on worker threads) never touch a destroyed cache.
  static WeightCache& process();

  WeightCache() = default;
  WeightCache(const WeightCache&) = delete;
  WeightCache& operator=(const WeightCache&) = delete;

  // The weights of `file` in `placement`'s memory space: the live set loaded from the same file
  // (same canonical path, device, inode, size and modification time) into the same space if
  // there is one, else a new set loaded from `file` with `placement.allocator`. Thread-safe:
  // engines asking for the same set at the same time wait for one load instead of each loading.
  // Throws std::invalid_argument when `file` has no identity (from_bytes) or the placement is
  // not shareable, and whatever loading throws (std::bad_alloc, a device error).
  std::shared_ptr<const DeviceWeights> acquire(const WeightFile& file, const WeightPlacement& placement);

  // The sets alive now, in load order.
  std::vector<WeightSetInfo> live() const;

 private:
  struct Key {
    FileIdentity file;
    std::string memory_space;
    bool operator<(const Key& other) const {
      if (memory_space != other.memory_space) return memory_space < other.memory_space;
      return file < other.file;
    }
  };
  struct Slot {
    std::weak_ptr<const DeviceWeights> weights;
    bool loading = false;  // a thread is building this set; others wait on loaded_
    uint64_t id = 0;
  };

  // Forgets slots whose weights were freed and that nobody is loading. Caller holds mutex_.
  void prune();

  mutable std::mutex mutex_;
  std::condition_variable loaded_;
  std::map<Key, Slot> slots_;
  uint64_t next_id_ = 1;
};

}  // namespace sctdiff
