#include "worker_thread.h"

namespace sctdiff {

WorkerThread::WorkerThread() : thread_([this] { loop(); }) {}

WorkerThread::~WorkerThread() { stop_and_join(); }

bool WorkerThread::post(std::function<void()> job, bool last) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    jobs_.push_back(std::move(job));
    if (last) stopping_ = true;
  }
  wake_.notify_one();
  return true;
}

void WorkerThread::stop_and_join() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  join();
}

void WorkerThread::join() {
  if (thread_.joinable()) thread_.join();
}

void WorkerThread::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace sctdiff
