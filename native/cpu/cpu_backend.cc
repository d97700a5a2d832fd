#include "cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sctdiff {

CpuBackend::CpuBackend(int threads) : pool_(threads), scratch_(static_cast<size_t>(pool_.size())) {}

void* CpuBackend::allocate(size_t bytes) { return host_allocator()->allocate(bytes); }

void CpuBackend::release(void* ptr) { host_allocator()->release(ptr); }

void CpuBackend::upload(void* dst, const void* host_src, size_t bytes) { host_allocator()->upload(dst, host_src, bytes); }

void CpuBackend::download(void* host_dst, const void* src, size_t bytes) { host_allocator()->download(host_dst, src, bytes); }

void CpuBackend::copy(void* dst, const void* src, size_t bytes) { std::memmove(dst, src, bytes); }

void CpuBackend::copy_blocks(const BlockCopyParams& p) {
  // A block is a few hundred KiB (one frame's features, one template's tokens): one per task.
  const size_t bytes = static_cast<size_t>(p.elements) * sizeof(float);
  pool_.parallel_for(p.count, [&](int i, int) { std::memcpy(p.destinations[i], p.sources[i], bytes); });
}

float* CpuBackend::scratch(int worker, size_t count) {
  auto& buffer = scratch_[static_cast<size_t>(worker)];
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

int CpuBackend::chunk_size(int total, int parts, int align) {
  parts = std::max(parts, 1);
  int size = (total + parts - 1) / parts;
  size = (size + align - 1) / align * align;
  return std::max(size, 1);
}

}  // namespace sctdiff
