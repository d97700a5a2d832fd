// The JavaScript class NativeEngineGroup: one engine (one backend, one weight set) serving many
// streams, each stream one tracker's templates and feature slots (native/engine/batch_engine.h).
// One worker thread runs the calls. Whenever it becomes free it takes every request queued
// (batch_picker.h): a lone stream's call runs at once, while calls that piled up during the
// previous batch run together — encodes with encodes, decodes with decodes, up to 16, at most
// one per stream, each stream's calls in order. Each request is checked alone before batching,
// so a bad request rejects only its own promise.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../engine/batch_engine.h"
#include "batch_picker.h"
#include "cuda_library.h"
#include "native_engine.h"

namespace sctdiff {

// One queued call of a stream (or of the group: stream -1).
struct GroupTask : EngineTask {
  GroupTask(Napi::Env env, int stream, RequestKind kind) : EngineTask(env), stream_(stream), kind_(kind) {}
  int stream() const { return stream_; }
  RequestKind kind() const { return kind_; }

 private:
  int stream_;
  RequestKind kind_;
};

// The group's request queue and the batch sizes it handed out (for the _debugBatches hook).
class GroupQueue {
 public:
  // Queues `task`; false once the queue stopped (the task is then not taken).
  bool push(std::unique_ptr<GroupTask> task);
  // Blocks until a batch is ready (take_batch) or the queue stopped; empty when stopped.
  std::vector<std::unique_ptr<GroupTask>> next_batch();
  // Stops handing out batches (the queued tasks are left unrun).
  void stop();
  // Test hooks: while suspended no batch is handed out, so calls pile up.
  void set_suspended(bool suspended);

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<GroupTask>> tasks_;
  bool stopping_ = false;
  bool suspended_ = false;
};

class NativeEngineGroup : public Napi::ObjectWrap<NativeEngineGroup> {
 public:
  static Napi::Function define(Napi::Env env);

  // new NativeEngineGroup(modelPath: string, threads: number, backend = 'cpu', cudaSearchDirs?: string[]).
  explicit NativeEngineGroup(const Napi::CallbackInfo& info);
  ~NativeEngineGroup() override;

 private:
  // State the worker owns.
  struct State {
    std::string model_path;
    int threads = 0;
    std::string backend = "cpu";  // or "cuda"
    std::vector<std::string> cuda_search_dirs;
    OwnedBatchEngine engine;
    std::mutex batches_mutex;
    std::vector<std::pair<RequestKind, int>> batches;  // kind and size of each batch run
  };

  Napi::Value open(const Napi::CallbackInfo& info);
  Napi::Value backend_name(const Napi::CallbackInfo& info);  // 'cpu' or 'cuda'

  Napi::Value set_template(const Napi::CallbackInfo& info);  // (stream, index, frame, crop)
  Napi::Value encode(const Napi::CallbackInfo& info);        // (stream, frames, crops, slots)
  Napi::Value decode(const Napi::CallbackInfo& info);        // (stream, slots, tokens, timesteps, seed)
  Napi::Value release_stream(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  Napi::Value debug_features(const Napi::CallbackInfo& info);  // (stream, slot)
  Napi::Value debug_batches(const Napi::CallbackInfo& info);   // batches run since the last call
  Napi::Value debug_suspend(const Napi::CallbackInfo& info);
  Napi::Value debug_resume(const Napi::CallbackInfo& info);
  Napi::Value model_info(const Napi::CallbackInfo& info);
  Napi::Value is_disposed(const Napi::CallbackInfo& info);

  static int read_stream(const Napi::CallbackInfo& info);
  Napi::Value enqueue(Napi::Env env, std::unique_ptr<GroupTask> task);
  Napi::Value rejected(Napi::Env env, const NativeFailure& failure);
  void complete(Napi::Env env, EngineTask* task);

  // The worker thread: takes batches and runs them until the dispose task or stop().
  void work();
  void run_batch(std::vector<std::unique_ptr<GroupTask>>& batch);

  static void on_env_cleanup(void* self);
  void remove_cleanup_hook();
  void stop_worker();

  napi_env env_ = nullptr;
  bool cleanup_hook_registered_ = false;
  std::shared_ptr<State> state_;
  GroupQueue queue_;
  std::thread worker_;
  Napi::ThreadSafeFunction completions_;
  std::shared_ptr<std::atomic<bool>> completions_finalized_;
  size_t pending_ = 0;
  bool disposed_ = false;
  bool opened_ = false;
  Napi::Reference<Napi::Value> model_info_;
};

}  // namespace sctdiff
