// An owning, move-only array in a backend's memory. Shapes live with the code that uses the
// array (the forward pass knows its sizes); this only ties memory to its backend's lifetime.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "backend.h"

namespace sctdiff {

template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(Backend* backend, size_t count) : backend_(backend), count_(count) {
    if (count > 0) data_ = static_cast<T*>(backend->allocate(count * sizeof(T)));
  }
  DeviceArray(Backend* backend, const std::vector<T>& host) : DeviceArray(backend, host.size()) {
    if (!host.empty()) backend->upload(data_, host.data(), host.size() * sizeof(T));
  }
  ~DeviceArray() { reset(); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& other) noexcept { *this = std::move(other); }
  DeviceArray& operator=(DeviceArray&& other) noexcept {
    if (this != &other) {
      reset();
      backend_ = std::exchange(other.backend_, nullptr);
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
    if (count_ > 0) backend_->download(host.data(), data_, count_ * sizeof(T));
    return host;
  }

 private:
  void reset() {
    if (data_ != nullptr) backend_->release(data_);
    data_ = nullptr;
    count_ = 0;
  }

  Backend* backend_ = nullptr;
  T* data_ = nullptr;
  size_t count_ = 0;
};

}  // namespace sctdiff
