// One engine's own thread. Jobs run strictly in the order they were posted, so calls queued
// on one engine never overlap or reorder. The libuv pool is not used: a long decode on one
// engine must not starve other engines' (or fs') work, and an engine's native state is then
// only ever touched by one thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace sctdiff {

class WorkerThread {
 public:
  WorkerThread();
  ~WorkerThread();  // stops and joins if still running
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  // Queues `job`; if `last`, the thread exits after running it and ignores later posts.
  // Returns false when the thread is already stopping.
  bool post(std::function<void()> job, bool last = false);
  // Asks the thread to exit after the queued jobs and waits for it.
  void stop_and_join();
  // Waits for a thread that was told to stop by a `last` job.
  void join();

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sctdiff
