// Host memory for the CPU backend: 64-byte aligned blocks, copies by memcpy. It has no state, so
// one process-wide instance serves every CpuBackend for its activations and is the allocator of
// the CPU engines' shared weights (weight_cache.h), which thereby depend on no CpuBackend (and
// no thread pool) staying alive.
#pragma once

#include <memory>

#include "../engine/device_allocator.h"

namespace sctdiff {

class HostAllocator final : public DeviceAllocator {
 public:
  void* allocate(size_t bytes) override;
  void release(void* ptr) override;
  void upload(void* dst, const void* host_src, size_t bytes) override;
  void download(void* host_dst, const void* src, size_t bytes) override;
};

// The process-wide instance.
const std::shared_ptr<HostAllocator>& host_allocator();

}  // namespace sctdiff
