// Which queued requests a group's worker runs together (native/binding/engine_group.h). The
// worker calls take_batch whenever it becomes free, so nothing ever waits for company: a lone
// request is a batch of one, and requests that piled up while the worker was busy go together.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <unordered_set>
#include <vector>

namespace sctdiff {

enum class RequestKind {
  kEncode,   // batchable with other streams' encodes
  kDecode,   // batchable with other streams' decodes
  kAlone,    // one stream's call that runs by itself (set_template, release)
  kBarrier,  // a call on the whole group (open, dispose, debug): nothing is taken past it
};

// Removes from `queue` and returns the next batch: the front request, and, when it is an encode
// or a decode, every later queued request of the same kind from another stream, up to
// `max_batch` in all. A stream's requests keep their order: once a stream has a request that
// stays queued (or already has one in the batch), none of its later ones is taken. Nothing is
// taken past a barrier. `Task` has `int stream() const` and `RequestKind kind() const`.
template <typename Task>
std::vector<std::unique_ptr<Task>> take_batch(std::deque<std::unique_ptr<Task>>& queue, size_t max_batch) {
  std::vector<std::unique_ptr<Task>> batch;
  if (queue.empty()) return batch;
  batch.push_back(std::move(queue.front()));
  queue.pop_front();
  const RequestKind kind = batch.front()->kind();
  if (kind != RequestKind::kEncode && kind != RequestKind::kDecode) return batch;
  std::unordered_set<int> held{batch.front()->stream()};  // streams whose next request may not go
  for (auto it = queue.begin(); it != queue.end() && batch.size() < max_batch;) {
    Task& task = **it;
    if (task.kind() == RequestKind::kBarrier) break;
    if (task.kind() == kind && held.count(task.stream()) == 0) {
      held.insert(task.stream());
      batch.push_back(std::move(*it));
      it = queue.erase(it);
      continue;
    }
    held.insert(task.stream());
    ++it;
  }
  return batch;
}

}  // namespace sctdiff
