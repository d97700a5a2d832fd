// The JavaScript class NativeEngine: one loaded model on one worker thread. Every method
// returns a Promise settled on the JS thread; calls run in the order they were made. Two
// trackers may share one engine (their calls interleave in arrival order on the worker), but
// each tracker must not overlap its own calls — lib/tracker serializes per tracker.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "../engine/engine.h"
#include "../engine/weights.h"
#include "cuda_library.h"
#include "js_convert.h"
#include "worker_thread.h"

namespace sctdiff {

// One queued call. `execute` runs on the worker; `settle` builds the resolved value on the JS
// thread. `keep_alive` holds the JS values (frame buffers, the engine object) that must not
// be collected while the worker reads them.
struct EngineTask {
  explicit EngineTask(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  virtual ~EngineTask() = default;
  virtual void execute() = 0;
  virtual Napi::Value settle(Napi::Env env) { return env.Undefined(); }

  Napi::Promise::Deferred deferred;
  std::vector<Napi::Reference<Napi::Value>> keep_alive;
  NativeFailure failure;
  bool ok = true;
  bool last = false;  // the dispose task: the worker exits after it
};

class NativeEngine : public Napi::ObjectWrap<NativeEngine> {
 public:
  static Napi::Function define(Napi::Env env);

  // new NativeEngine(modelPath: string, backend: 'cpu' | 'cuda', threads: number,
  //                  cudaSearchDirs?: string[]) — the folders searched for libsctdiff_cuda.so
  //                  (cuda_library.h), used by backend 'cuda' only.
  explicit NativeEngine(const Napi::CallbackInfo& info);
  ~NativeEngine() override;

 private:
  // State the worker owns. The JS thread reads `config` only after `open` settled.
  struct State {
    std::string model_path;
    std::string backend;
    int threads = 0;
    std::vector<std::string> cuda_search_dirs;
    OwnedEngine engine;
  };

  Napi::Value open(const Napi::CallbackInfo& info);
  Napi::Value set_template(const Napi::CallbackInfo& info);
  Napi::Value encode(const Napi::CallbackInfo& info);
  Napi::Value decode(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  Napi::Value debug_preprocess(const Napi::CallbackInfo& info);
  Napi::Value debug_features(const Napi::CallbackInfo& info);
  Napi::Value debug_decode(const Napi::CallbackInfo& info);

  Napi::Value model_info(const Napi::CallbackInfo& info);
  Napi::Value backend_name(const Napi::CallbackInfo& info);
  Napi::Value is_disposed(const Napi::CallbackInfo& info);

  // Queues `task` (taking ownership) and returns its promise.
  Napi::Value enqueue(Napi::Env env, std::unique_ptr<EngineTask> task);
  // Runs on the JS thread when a task finished on the worker.
  void complete(Napi::Env env, EngineTask* task);
  Napi::Value rejected(Napi::Env env, const NativeFailure& failure);
  Engine& loaded_engine();  // worker thread; throws when open() failed or was not called

  // Environment teardown (process exit, worker_threads termination) runs this before Node
  // finalizes the thread-safe function, so the worker never calls into a freed one.
  static void on_env_cleanup(void* self);
  void remove_cleanup_hook();

  napi_env env_ = nullptr;
  bool cleanup_hook_registered_ = false;
  std::shared_ptr<State> state_;
  std::unique_ptr<WorkerThread> worker_;
  Napi::ThreadSafeFunction completions_;
  std::shared_ptr<std::atomic<bool>> completions_finalized_;
  size_t pending_ = 0;
  bool disposed_ = false;
  bool opened_ = false;
  Napi::Reference<Napi::Value> model_info_;
  std::optional<ModelConfig> config_;  // JS thread copy, set when open() settles
};

// Whether create_cpu_engine is linked into this build.
bool cpu_backend_built();

}  // namespace sctdiff
