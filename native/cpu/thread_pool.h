// A small fork-join thread pool for the CPU backend. Deliberately not OpenMP: the addon must not
// pull libgomp in as a runtime dependency. The calling thread takes part in the work, so a pool
// of one thread runs everything inline.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sctdiff {

class ThreadPool {
 public:
  // `threads` <= 0 means one per hardware thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs task(i) for i in [0, count), spread over the pool; returns when all are done.
  // task(i, worker) also receives the index (0 .. size()-1) of the thread running it, for
  // per-thread scratch memory. Not reentrant: tasks must not call parallel_for.
  void parallel_for(int count, const std::function<void(int task, int worker)>& task);

 private:
  void worker_loop(int worker);
  void run_tasks(int worker);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int, int)>* task_ = nullptr;
  int task_count_ = 0;
  std::atomic<int> next_task_{0};
  std::atomic<int> finished_tasks_{0};
  uint64_t generation_ = 0;
  int busy_workers_ = 0;
  bool stopping_ = false;
};

}  // namespace sctdiff
