// Device memory for the weights that the CUDA engines of one device share (weight_cache.h).
// Unlike CudaBackend it owns no stream, graphs or staging buffers, so the weights depend on no
// engine's backend staying alive; its copies are synchronous because weights are loaded once,
// before any engine runs on them.
#pragma once

#include "../engine/device_allocator.h"

namespace sctdiff::cuda {

class CudaWeightAllocator final : public DeviceAllocator {
 public:
  explicit CudaWeightAllocator(int device) : device_(device) {}

  void* allocate(size_t bytes) override;
  // Never throws: called from destructors, possibly on another thread than the one that loaded.
  void release(void* ptr) override;
  void upload(void* dst, const void* host_src, size_t bytes) override;
  void download(void* host_dst, const void* src, size_t bytes) override;

 private:
  int device_;
};

}  // namespace sctdiff::cuda
