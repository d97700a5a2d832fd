#include "host_allocator.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace sctdiff {

void* HostAllocator::allocate(size_t bytes) {
  const size_t kAlign = 64;
  void* ptr = std::aligned_alloc(kAlign, (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign);
  if (ptr == nullptr) throw std::bad_alloc();
  return ptr;
}

void HostAllocator::release(void* ptr) { std::free(ptr); }

void HostAllocator::upload(void* dst, const void* host_src, size_t bytes) { std::memcpy(dst, host_src, bytes); }

void HostAllocator::download(void* host_dst, const void* src, size_t bytes) { std::memcpy(host_dst, src, bytes); }

const std::shared_ptr<HostAllocator>& host_allocator() {
  // Leaked on purpose: weights freed by engines disposed during process exit still release into it.
  static const auto* instance = new std::shared_ptr<HostAllocator>(std::make_shared<HostAllocator>());
  return *instance;
}

}  // namespace sctdiff
