#include "thread_pool.h"

namespace sctdiff {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  workers_.reserve(static_cast<size_t>(threads - 1));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::run_tasks(int worker) {
  for (;;) {
    const int i = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (i >= task_count_) break;
    (*task_)(i, worker);
    finished_tasks_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::worker_loop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      ++busy_workers_;
    }
    run_tasks(worker);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --busy_workers_;
    }
    done_.notify_one();
  }
}

void ThreadPool::parallel_for(int count, const std::function<void(int, int)>& task) {
  if (count <= 0) return;
  if (workers_.empty() || count == 1) {
    for (int i = 0; i < count; ++i) task(i, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    task_count_ = count;
    next_task_.store(0, std::memory_order_relaxed);
    finished_tasks_.store(0, std::memory_order_relaxed);
    ++generation_;
  }
  wake_.notify_all();
  run_tasks(0);
  // Wait until every task is finished and no worker still holds a reference to `task`.
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] {
    return finished_tasks_.load(std::memory_order_acquire) == task_count_ && busy_workers_ == 0;
  });
  task_ = nullptr;
}

}  // namespace sctdiff
