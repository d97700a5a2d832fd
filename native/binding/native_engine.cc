#include "native_engine.h"

#include <utility>

#include "../engine/errors.h"

namespace sctdiff {

namespace {

Napi::Float32Array float32_array(Napi::Env env, const std::vector<float>& values) {
  Napi::Float32Array array = Napi::Float32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), array.Data());
  return array;
}

template <typename Execute>
struct LambdaTask : EngineTask {
  LambdaTask(Napi::Env env, Execute body) : EngineTask(env), body(std::move(body)) {}
  void execute() override { body(); }
  Execute body;
};

template <typename Execute>
std::unique_ptr<EngineTask> make_task(Napi::Env env, Execute body) {
  return std::make_unique<LambdaTask<Execute>>(env, std::move(body));
}

struct DecodeTask : EngineTask {
  using EngineTask::EngineTask;
  void execute() override { output = run(); }
  Napi::Value settle(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    Napi::Int32Array tokens = Napi::Int32Array::New(env, output.tokens.size());
    std::copy(output.tokens.begin(), output.tokens.end(), tokens.Data());
    Napi::Float32Array scores = Napi::Float32Array::New(env, output.scores.size());
    std::copy(output.scores.begin(), output.scores.end(), scores.Data());
    result.Set("tokens", tokens);
    result.Set("scores", scores);
    // Only the debug decode fills the logits; the production path never copies them.
    if (!output.logits.empty()) result.Set("logits", float32_array(env, output.logits));
    return result;
  }
  std::function<DecodeOutput()> run;
  DecodeOutput output;
};

// A worker computation that resolves to a Float32Array (the debug methods).
struct FloatsTask : EngineTask {
  using EngineTask::EngineTask;
  void execute() override { output = run(); }
  Napi::Value settle(Napi::Env env) override { return float32_array(env, output); }
  std::function<std::vector<float>()> run;
  std::vector<float> output;
};

NativeFailure disposed_failure() {
  return NativeFailure{"ERR_DISPOSED", "The engine has been disposed and cannot be used any more", "", ""};
}

}  // namespace

Napi::Function NativeEngine::define(Napi::Env env) {
  return DefineClass(env, "NativeEngine",
                     {
                         InstanceMethod<&NativeEngine::open>("open"),
                         InstanceMethod<&NativeEngine::set_template>("setTemplate"),
                         InstanceMethod<&NativeEngine::encode>("encode"),
                         InstanceMethod<&NativeEngine::decode>("decode"),
                         InstanceMethod<&NativeEngine::dispose>("dispose"),
                         // Parity-test hooks (test/native/parity.test.ts): intermediate outputs.
                         InstanceMethod<&NativeEngine::debug_preprocess>("_debugPreprocess"),
                         InstanceMethod<&NativeEngine::debug_features>("_debugFeatures"),
                         InstanceMethod<&NativeEngine::debug_decode>("_debugDecode"),
                         InstanceAccessor<&NativeEngine::model_info>("modelInfo"),
                         InstanceAccessor<&NativeEngine::backend_name>("backend"),
                         InstanceAccessor<&NativeEngine::is_disposed>("disposed"),
                     });
}

NativeEngine::NativeEngine(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<NativeEngine>(info), state_(std::make_shared<State>()) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsNumber()) {
    throw_invalid_argument(env, "Expected new NativeEngine(modelPath: string, backend: string, threads: number)");
  }
  state_->model_path = info[0].As<Napi::String>().Utf8Value();
  state_->backend = read_backend_name(env, info[1]);
  if (info.Length() > 3) state_->cuda_search_dirs = read_cuda_search_dirs(env, info[3]);
  state_->threads = read_thread_count(env, info[2]);

  completions_finalized_ = std::make_shared<std::atomic<bool>>(false);
  auto finalized = completions_finalized_;
  completions_ = Napi::ThreadSafeFunction::New(
      env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "sct-diff engine", 0, 1,
      [finalized](Napi::Env) { *finalized = true; });
  // An idle engine must not keep the process alive; enqueue() refs it while calls are pending.
  completions_.Unref(env);
  worker_ = std::make_unique<WorkerThread>();
  // Registered after the thread-safe function, so it runs before that one's own cleanup
  // (hooks run in reverse order of registration).
  env_ = env;
  if (napi_add_env_cleanup_hook(env, &NativeEngine::on_env_cleanup, this) == napi_ok) {
    cleanup_hook_registered_ = true;
  }
}

void NativeEngine::on_env_cleanup(void* self) {
  auto* engine = static_cast<NativeEngine*>(self);
  engine->cleanup_hook_registered_ = false;
  // Waits for the running task; its completion is queued but never delivered (the loop is
  // gone), so that task is leaked on purpose rather than touching a dying environment.
  if (engine->worker_) engine->worker_->stop_and_join();
}

void NativeEngine::remove_cleanup_hook() {
  if (cleanup_hook_registered_) {
    napi_remove_env_cleanup_hook(env_, &NativeEngine::on_env_cleanup, this);
    cleanup_hook_registered_ = false;
  }
}

NativeEngine::~NativeEngine() {
  remove_cleanup_hook();
  // Collected without dispose(): no task is pending (each holds a reference to this object),
  // so the worker is idle and joins at once.
  if (worker_) worker_->stop_and_join();
  if (!disposed_ && !*completions_finalized_) completions_.Release();
}

Napi::Value NativeEngine::rejected(Napi::Env env, const NativeFailure& failure) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(make_js_error(env, failure).Value());
  return deferred.Promise();
}

Napi::Value NativeEngine::enqueue(Napi::Env env, std::unique_ptr<EngineTask> task) {
  if (disposed_) return rejected(env, disposed_failure());
  task->keep_alive.push_back(Napi::Persistent(Value().As<Napi::Value>()));
  Napi::Promise promise = task->deferred.Promise();
  if (pending_++ == 0) completions_.Ref(env);
  const bool last = task->last;
  if (last) disposed_ = true;
  EngineTask* raw = task.release();
  Napi::ThreadSafeFunction completions = completions_;
  worker_->post(
      [raw, completions, this]() {
        raw->ok = capture_failure([raw] { raw->execute(); }, raw->failure);
        const napi_status status = completions.BlockingCall(
            raw, [this](Napi::Env js_env, Napi::Function, EngineTask* done) {
              if (js_env != nullptr) complete(js_env, done);
            });
        // When the environment is shutting down the task is leaked on purpose: its JS
        // references may only be released on the JS thread, which no longer runs.
        (void)status;
      },
      last);
  return promise;
}

void NativeEngine::complete(Napi::Env env, EngineTask* finished) {
  std::unique_ptr<EngineTask> task(finished);
  try {
    Napi::HandleScope scope(env);
    if (task->ok) {
      Napi::Value value;
      NativeFailure failure;
      const bool settled = capture_failure([&] { value = task->settle(env); }, failure);
      if (settled) {
        task->deferred.Resolve(value);
      } else {
        task->deferred.Reject(make_js_error(env, failure).Value());
      }
    } else {
      task->deferred.Reject(make_js_error(env, task->failure).Value());
    }
  } catch (const Napi::Error&) {
    // JS can no longer run here (the environment is being torn down, e.g. a worker_threads
    // Worker was terminated): nobody can observe this promise, so it stays unsettled. An
    // exception escaping this callback would abort the whole process.
  }
  const bool last = task->last;
  task.reset();  // drops the references to frame buffers and this object
  if (last) {
    remove_cleanup_hook();
    worker_->join();
    worker_.reset();
    completions_.Release();
    return;
  }
  if (--pending_ == 0) completions_.Unref(env);
}

Engine& NativeEngine::loaded_engine() {
  if (!state_->engine) throw std::invalid_argument("The engine has no model loaded (open() failed or was not called)");
  return *state_->engine;
}

Napi::Value NativeEngine::open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (opened_) {
    return rejected(env, NativeFailure{"ERR_INVALID_ARGUMENT", "open() was already called on this engine", "", ""});
  }
  opened_ = true;
  struct OpenTask : EngineTask {
    using EngineTask::EngineTask;
    void execute() override {
      if (state->backend == "cuda") {
        // The library loads and uploads the weights itself; the config comes from its engine.
        state->engine = create_cuda_engine(state->model_path, state->cuda_search_dirs);
      } else {
        // The engine takes its weights from the process-wide cache (weight_cache.h) and keeps
        // no reference to the file: the mapping is unmapped when `file` goes out of scope, so
        // an engine that found its weights already loaded never reads the file's data at all.
        auto file = WeightFile::open(state->model_path);
        state->engine = OwnedEngine(create_cpu_engine(std::move(file), state->threads).release(),
                                    [](Engine* engine) { delete engine; });
      }
    }
    Napi::Value settle(Napi::Env env) override {
      const ModelConfig& config = state->engine->config();
      Napi::Object info = model_info_object(env, config);
      owner->model_info_ = Napi::Persistent(info.As<Napi::Value>());
      owner->config_ = config;
      return info;
    }
    std::shared_ptr<State> state;
    NativeEngine* owner = nullptr;
  };
  auto task = std::make_unique<OpenTask>(env);
  task->state = state_;
  task->owner = this;
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngine::set_template(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) return rejected(env, disposed_failure());
  const int template_index = read_template_index(env, info[0]);
  const FrameView frame = read_frame(env, info[1], "frame");
  const CropParams crop = read_crop(env, info[2], "crop");
  auto task = make_task(env, [this, template_index, frame, crop] {
    loaded_engine().set_template(template_index, frame, crop);
  });
  task->keep_alive.push_back(Napi::Persistent(info[1].As<Napi::Object>().Get("data")));
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngine::encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) return rejected(env, disposed_failure());
  EncodeArguments args = read_encode_arguments(info, 0, config_ ? 2 * config_->decoder.clip_len : 0);
  auto task = make_task(env, [this, frames = args.frames, crops = args.crops, slots = args.slots] {
    loaded_engine().encode(frames, crops, slots);
  });
  for (const Napi::Value& buffer : args.buffers) task->keep_alive.push_back(Napi::Persistent(buffer));
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngine::decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) return rejected(env, disposed_failure());
  auto task = std::make_unique<DecodeTask>(env);
  task->run = [this, args = read_decode_arguments(info, 0)] {
    return loaded_engine().decode(args.slots, args.tokens, args.timesteps, args.seed);
  };
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngine::debug_decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) return rejected(env, disposed_failure());
  auto task = std::make_unique<DecodeTask>(env);
  task->run = [this, args = read_decode_arguments(info, 0)] {
    return loaded_engine().debug_decode(args.slots, args.tokens, args.timesteps, args.seed);
  };
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngine::debug_preprocess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) return rejected(env, disposed_failure());
  const FrameView frame = read_frame(env, info[0], "frame");
  const CropParams crop = read_crop(env, info[1], "crop");
  auto task = std::make_unique<FloatsTask>(env);
  task->run = [this, frame, crop] { return loaded_engine().debug_preprocess(frame, crop); };
  task->keep_alive.push_back(Napi::Persistent(info[0].As<Napi::Object>().Get("data")));
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngine::debug_features(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) return rejected(env, disposed_failure());
  if (!info[0].IsNumber()) throw_invalid_argument(env, "Expected a slot number but received " + info[0].ToString().Utf8Value());
  const int slot = info[0].As<Napi::Number>().Int32Value();
  auto task = std::make_unique<FloatsTask>(env);
  task->run = [this, slot] { return loaded_engine().debug_features(slot); };
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngine::dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Resolve(env.Undefined());
    return deferred.Promise();
  }
  auto state = state_;
  auto task = make_task(env, [state] {
    // Free the engine (and the weights, if it was their last user) on the worker, after every
    // call queued before dispose().
    state->engine.reset();
  });
  task->last = true;
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngine::model_info(const Napi::CallbackInfo& info) {
  if (model_info_.IsEmpty()) return info.Env().Undefined();
  return model_info_.Value();
}

Napi::Value NativeEngine::backend_name(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), state_->backend);
}

Napi::Value NativeEngine::is_disposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), disposed_);
}


// The CPU backend is always linked in (binding.gyp compiles native/cpu); CUDA is loaded at run time.
bool cpu_backend_built() { return true; }

}  // namespace sctdiff
