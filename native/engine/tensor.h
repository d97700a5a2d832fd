// An owning, move-only array in an allocator's memory (a Backend's for activations, a shared
// weight allocator for weights). Shapes live with the code that uses the array (the forward
// pass knows its sizes); this only ties memory to its allocator, which must outlive the array.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "device_allocator.h"

namespace sctdiff {

template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(DeviceAllocator* allocator, size_t count) : allocator_(allocator), count_(count) {
    if (count > 0) data_ = static_cast<T*>(allocator->allocate(count * sizeof(T)));
  }
  DeviceArray(DeviceAllocator* allocator, const std::vector<T>& host) : DeviceArray(allocator, host.size()) {
    if (!host.empty()) allocator->upload(data_, host.data(), host.size() * sizeof(T));
  }
  ~DeviceArray() { reset(); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& other) noexcept { *this = std::move(other); }
  DeviceArray& operator=(DeviceArray&& other) noexcept {
    if (this != &other) {
      reset();
      allocator_ = std::exchange(other.allocator_, nullptr);
      data_ = std::exchange(other.data_, nullptr);
      count_ = std::exchange(other.count_, 0);
    }
    return *this;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return count_; }

  std::vector<T> to_host() const {
    std::vector<T> host(count_);
    if (count_ > 0) allocator_->download(host.data(), data_, count_ * sizeof(T));
    return host;
  }

 private:
  void reset() {
    if (data_ != nullptr) allocator_->release(data_);
    data_ = nullptr;
    count_ = 0;
  }

  DeviceAllocator* allocator_ = nullptr;
  T* data_ = nullptr;
  size_t count_ = 0;
};

}  // namespace sctdiff
