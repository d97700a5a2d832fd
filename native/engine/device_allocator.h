// Memory in a backend's address space, separate from the compute interface (backend.h) so that
// memory can outlive any one Backend instance: the weights an engine reads are shared by every
// engine of the same model (weight_cache.h) and must not be freed with the backend of whichever
// engine happened to load them.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace sctdiff {

class DeviceAllocator {
 public:
  virtual ~DeviceAllocator() = default;
  // Memory in the allocator's address space, aligned to at least 64 bytes.
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* ptr) = 0;
  virtual void upload(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void download(void* host_dst, const void* src, size_t bytes) = 0;
};

// Where a backend's weights may live so that other engines can read them too.
struct WeightPlacement {
  // Names the address space ("host", "cuda:0"): weights are shared only between engines whose
  // backends name the same space, i.e. that can read the same pointers.
  std::string memory_space;
  // Allocates the shared weights. It must not depend on the backend that returned it: the
  // weights keep it alive and may outlive that backend.
  std::shared_ptr<DeviceAllocator> allocator;

  // False: the backend keeps its weights private (allocated from the backend itself).
  bool shareable() const { return allocator != nullptr && !memory_space.empty(); }
};

}  // namespace sctdiff
