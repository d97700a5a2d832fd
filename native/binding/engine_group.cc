#include "engine_group.h"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <utility>

#include "../engine/errors.h"
#include "../engine/weights.h"
#include "js_convert.h"

namespace sctdiff {

namespace {

NativeFailure disposed_failure() {
  return NativeFailure{"ERR_DISPOSED", "The engine group has been disposed and cannot be used any more", "", ""};
}

template <typename Execute>
struct LambdaGroupTask : GroupTask {
  LambdaGroupTask(Napi::Env env, int stream, RequestKind kind, Execute body)
      : GroupTask(env, stream, kind), body(std::move(body)) {}
  void execute() override { body(); }
  Execute body;
};

template <typename Execute>
std::unique_ptr<GroupTask> make_group_task(Napi::Env env, int stream, RequestKind kind, Execute body) {
  return std::make_unique<LambdaGroupTask<Execute>>(env, stream, kind, std::move(body));
}

// Encodes and decodes run through run_batch, not execute().
struct EncodeGroupTask : GroupTask {
  EncodeGroupTask(Napi::Env env, int stream) : GroupTask(env, stream, RequestKind::kEncode) {}
  void execute() override {}
  StreamEncode request;
};

struct DecodeGroupTask : GroupTask {
  DecodeGroupTask(Napi::Env env, int stream) : GroupTask(env, stream, RequestKind::kDecode) {}
  void execute() override {}
  Napi::Value settle(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    Napi::Int32Array tokens = Napi::Int32Array::New(env, output.tokens.size());
    std::copy(output.tokens.begin(), output.tokens.end(), tokens.Data());
    Napi::Float32Array scores = Napi::Float32Array::New(env, output.scores.size());
    std::copy(output.scores.begin(), output.scores.end(), scores.Data());
    result.Set("tokens", tokens);
    result.Set("scores", scores);
    return result;
  }
  StreamDecode request;
  DecodeOutput output;
};

struct FeaturesGroupTask : GroupTask {
  using GroupTask::GroupTask;
  void execute() override { output = run(); }
  Napi::Value settle(Napi::Env env) override {
    Napi::Float32Array array = Napi::Float32Array::New(env, output.size());
    std::copy(output.begin(), output.end(), array.Data());
    return array;
  }
  std::function<std::vector<float>()> run;
  std::vector<float> output;
};

const char* kind_name(RequestKind kind) {
  switch (kind) {
    case RequestKind::kEncode: return "encode";
    case RequestKind::kDecode: return "decode";
    case RequestKind::kAlone: return "alone";
    case RequestKind::kBarrier: break;
  }
  return "group";
}

}  // namespace

// ---- GroupQueue ----

bool GroupQueue::push(std::unique_ptr<GroupTask> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

std::vector<std::unique_ptr<GroupTask>> GroupQueue::next_batch() {
  std::unique_lock<std::mutex> lock(mutex_);
  wake_.wait(lock, [this] { return stopping_ || (!suspended_ && !tasks_.empty()); });
  if (stopping_) return {};
  return take_batch(tasks_, static_cast<size_t>(BatchEngine::kMaxBatch));
}

void GroupQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
}

void GroupQueue::set_suspended(bool suspended) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    suspended_ = suspended;
  }
  wake_.notify_all();
}

// ---- NativeEngineGroup ----

Napi::Function NativeEngineGroup::define(Napi::Env env) {
  return DefineClass(env, "NativeEngineGroup",
                     {
                         InstanceMethod<&NativeEngineGroup::open>("open"),
                         InstanceMethod<&NativeEngineGroup::set_template>("setTemplate"),
                         InstanceMethod<&NativeEngineGroup::encode>("encode"),
                         InstanceMethod<&NativeEngineGroup::decode>("decode"),
                         InstanceMethod<&NativeEngineGroup::release_stream>("releaseStream"),
                         InstanceMethod<&NativeEngineGroup::dispose>("dispose"),
                         // Test hooks (native/binding/NOTES.md).
                         InstanceMethod<&NativeEngineGroup::debug_features>("_debugFeatures"),
                         InstanceMethod<&NativeEngineGroup::debug_batches>("_debugBatches"),
                         InstanceMethod<&NativeEngineGroup::debug_suspend>("_debugSuspend"),
                         InstanceMethod<&NativeEngineGroup::debug_resume>("_debugResume"),
                         InstanceAccessor<&NativeEngineGroup::model_info>("modelInfo"),
                         InstanceAccessor<&NativeEngineGroup::is_disposed>("disposed"),
                         InstanceAccessor<&NativeEngineGroup::backend_name>("backend"),
                     });
}

NativeEngineGroup::NativeEngineGroup(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<NativeEngineGroup>(info), state_(std::make_shared<State>()) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    throw_invalid_argument(env, "Expected new NativeEngineGroup(modelPath: string, threads: number, backend?: string, cudaSearchDirs?: string[])");
  }
  state_->model_path = info[0].As<Napi::String>().Utf8Value();
  state_->threads = read_thread_count(env, info[1]);
  if (info.Length() > 2 && !info[2].IsUndefined()) state_->backend = read_backend_name(env, info[2]);
  if (info.Length() > 3) state_->cuda_search_dirs = read_cuda_search_dirs(env, info[3]);

  completions_finalized_ = std::make_shared<std::atomic<bool>>(false);
  auto finalized = completions_finalized_;
  completions_ = Napi::ThreadSafeFunction::New(
      env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "sct-diff engine group", 0, 1,
      [finalized](Napi::Env) { *finalized = true; });
  completions_.Unref(env);  // an idle group must not keep the process alive
  worker_ = std::thread([this] { work(); });
  env_ = env;
  if (napi_add_env_cleanup_hook(env, &NativeEngineGroup::on_env_cleanup, this) == napi_ok) {
    cleanup_hook_registered_ = true;
  }
}

void NativeEngineGroup::stop_worker() {
  queue_.stop();
  if (worker_.joinable()) worker_.join();
}

void NativeEngineGroup::on_env_cleanup(void* self) {
  auto* group = static_cast<NativeEngineGroup*>(self);
  group->cleanup_hook_registered_ = false;
  // Waits for the running batch; queued tasks and undelivered completions are leaked on purpose
  // rather than touching a dying environment.
  group->stop_worker();
}

void NativeEngineGroup::remove_cleanup_hook() {
  if (cleanup_hook_registered_) {
    napi_remove_env_cleanup_hook(env_, &NativeEngineGroup::on_env_cleanup, this);
    cleanup_hook_registered_ = false;
  }
}

NativeEngineGroup::~NativeEngineGroup() {
  remove_cleanup_hook();
  // Collected without dispose(): nothing is pending (each task holds a reference to this object).
  stop_worker();
  if (!disposed_ && !*completions_finalized_) completions_.Release();
}

void NativeEngineGroup::work() {
  for (;;) {
    std::vector<std::unique_ptr<GroupTask>> batch = queue_.next_batch();
    if (batch.empty()) return;  // stopped
    const bool last = std::any_of(batch.begin(), batch.end(), [](const auto& task) { return task->last; });
    run_batch(batch);
    if (last) return;
  }
}

void NativeEngineGroup::run_batch(std::vector<std::unique_ptr<GroupTask>>& batch) {
  const RequestKind kind = batch.front()->kind();
  auto engine = [this]() -> BatchEngine& {
    if (!state_->engine) throw std::invalid_argument("The engine group has no model loaded (open() failed or was not called)");
    return *state_->engine;
  };
  if (kind == RequestKind::kEncode) {
    // Each request is checked alone; the good ones run as one batch.
    std::vector<StreamEncode> requests;
    std::vector<GroupTask*> owners;
    for (auto& task : batch) {
      auto* encode = static_cast<EncodeGroupTask*>(task.get());
      task->ok = capture_failure([&] { engine().check_encode(encode->request); }, task->failure);
      if (!task->ok) continue;
      requests.push_back(encode->request);
      owners.push_back(task.get());
    }
    NativeFailure failure;
    if (!requests.empty() && !capture_failure([&] { engine().encode_batch(requests); }, failure)) {
      for (GroupTask* owner : owners) {
        owner->ok = false;
        owner->failure = failure;
      }
    }
  } else if (kind == RequestKind::kDecode) {
    std::vector<StreamDecode> requests;
    std::vector<DecodeGroupTask*> owners;
    for (auto& task : batch) {
      auto* decode = static_cast<DecodeGroupTask*>(task.get());
      task->ok = capture_failure([&] { engine().check_decode(decode->request); }, task->failure);
      if (!task->ok) continue;
      requests.push_back(decode->request);
      owners.push_back(decode);
    }
    std::vector<DecodeOutput> outputs;
    NativeFailure failure;
    if (!requests.empty() && !capture_failure([&] { outputs = engine().decode_batch(requests); }, failure)) {
      for (DecodeGroupTask* owner : owners) {
        owner->ok = false;
        owner->failure = failure;
      }
    } else {
      for (size_t i = 0; i < outputs.size(); ++i) owners[i]->output = std::move(outputs[i]);
    }
  } else {
    for (auto& task : batch) task->ok = capture_failure([&] { task->execute(); }, task->failure);
  }
  {
    std::lock_guard<std::mutex> lock(state_->batches_mutex);
    if (state_->batches.size() < 100000) state_->batches.emplace_back(kind, static_cast<int>(batch.size()));
  }
  Napi::ThreadSafeFunction completions = completions_;
  for (auto& task : batch) {
    GroupTask* raw = task.release();
    const napi_status status = completions.BlockingCall(raw, [this](Napi::Env js_env, Napi::Function, GroupTask* done) {
      if (js_env != nullptr) complete(js_env, done);
    });
    (void)status;  // environment shutting down: the task is leaked on purpose (see NativeEngine)
  }
}

Napi::Value NativeEngineGroup::rejected(Napi::Env env, const NativeFailure& failure) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(make_js_error(env, failure).Value());
  return deferred.Promise();
}

Napi::Value NativeEngineGroup::enqueue(Napi::Env env, std::unique_ptr<GroupTask> task) {
  if (disposed_) return rejected(env, disposed_failure());
  task->keep_alive.push_back(Napi::Persistent(Value().As<Napi::Value>()));
  Napi::Promise promise = task->deferred.Promise();
  if (pending_++ == 0) completions_.Ref(env);
  if (task->last) disposed_ = true;
  queue_.push(std::move(task));
  return promise;
}

void NativeEngineGroup::complete(Napi::Env env, EngineTask* finished) {
  std::unique_ptr<EngineTask> task(finished);
  try {
    Napi::HandleScope scope(env);
    if (task->ok) {
      Napi::Value value;
      NativeFailure failure;
      if (capture_failure([&] { value = task->settle(env); }, failure)) {
        task->deferred.Resolve(value);
      } else {
        task->deferred.Reject(make_js_error(env, failure).Value());
      }
    } else {
      task->deferred.Reject(make_js_error(env, task->failure).Value());
    }
  } catch (const Napi::Error&) {
    // The environment is being torn down: nobody can observe this promise.
  }
  const bool last = task->last;
  task.reset();
  if (last) {
    remove_cleanup_hook();
    if (worker_.joinable()) worker_.join();
    completions_.Release();
    return;
  }
  if (--pending_ == 0) completions_.Unref(env);
}

int NativeEngineGroup::read_stream(const Napi::CallbackInfo& info) {
  const Napi::Value value = info[0];
  if (!value.IsNumber()) throw_invalid_argument(info.Env(), "Expected a stream id but received " + value.ToString().Utf8Value());
  const double id = value.As<Napi::Number>().DoubleValue();
  if (!(id >= 0 && id <= 2147483647.0) || static_cast<int>(id) != id) {
    throw_invalid_argument(info.Env(), "Expected a stream id in [0, 2^31) but received " + value.ToString().Utf8Value());
  }
  return static_cast<int>(id);
}

Napi::Value NativeEngineGroup::open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (opened_) return rejected(env, NativeFailure{"ERR_INVALID_ARGUMENT", "open() was already called on this group", "", ""});
  opened_ = true;
  struct OpenTask : GroupTask {
    OpenTask(Napi::Env env) : GroupTask(env, -1, RequestKind::kBarrier) {}
    void execute() override {
      if (state->backend == "cuda") {
        // The library loads and uploads the weights itself (cuda_library.h).
        state->engine = create_cuda_batch_engine(state->model_path, state->cuda_search_dirs);
      } else {
        // Weights come from the process-wide cache (weight_cache.h), shared with lone engines.
        state->engine = create_cpu_batch_engine(WeightFile::open(state->model_path), state->threads);
      }
    }
    Napi::Value settle(Napi::Env env) override {
      const ModelConfig& config = state->engine->config();
      Napi::Object info = model_info_object(env, config);
      owner->model_info_ = Napi::Persistent(info.As<Napi::Value>());
      return info;
    }
    std::shared_ptr<State> state;
    NativeEngineGroup* owner = nullptr;
  };
  auto task = std::make_unique<OpenTask>(env);
  task->state = state_;
  task->owner = this;
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngineGroup::backend_name(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), state_->backend);
}

Napi::Value NativeEngineGroup::set_template(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) return rejected(env, disposed_failure());
  const int stream = read_stream(info);
  const int index = read_template_index(env, info[1]);
  const FrameView frame = read_frame(env, info[2], "frame");
  const CropParams crop = read_crop(env, info[3], "crop");
  auto state = state_;
  auto task = make_group_task(env, stream, RequestKind::kAlone, [state, stream, index, frame, crop] {
    if (!state->engine) throw std::invalid_argument("The engine group has no model loaded (open() failed or was not called)");
    state->engine->set_template(stream, index, frame, crop);
  });
  task->keep_alive.push_back(Napi::Persistent(info[2].As<Napi::Object>().Get("data")));
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngineGroup::encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) return rejected(env, disposed_failure());
  const int stream = read_stream(info);
  EncodeArguments args = read_encode_arguments(info, 1, 0);
  auto task = std::make_unique<EncodeGroupTask>(env, stream);
  task->request.stream = stream;
  task->request.frames = std::move(args.frames);
  task->request.crops = std::move(args.crops);
  task->request.slots = std::move(args.slots);
  for (const Napi::Value& buffer : args.buffers) task->keep_alive.push_back(Napi::Persistent(buffer));
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngineGroup::decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) return rejected(env, disposed_failure());
  const int stream = read_stream(info);
  DecodeArguments args = read_decode_arguments(info, 1);
  auto task = std::make_unique<DecodeGroupTask>(env, stream);
  task->request = StreamDecode{stream, std::move(args.slots), std::move(args.tokens), std::move(args.timesteps), args.seed};
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngineGroup::release_stream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) return rejected(env, disposed_failure());
  const int stream = read_stream(info);
  auto state = state_;
  return enqueue(env, make_group_task(env, stream, RequestKind::kAlone, [state, stream] {
                   if (state->engine) state->engine->release_stream(stream);
                 }));
}

Napi::Value NativeEngineGroup::debug_features(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) return rejected(env, disposed_failure());
  const int stream = read_stream(info);
  if (!info[1].IsNumber()) throw_invalid_argument(env, "Expected a slot number but received " + info[1].ToString().Utf8Value());
  const int slot = info[1].As<Napi::Number>().Int32Value();
  auto task = std::make_unique<FeaturesGroupTask>(env, stream, RequestKind::kAlone);
  auto state = state_;
  task->run = [state, stream, slot] {
    if (!state->engine) throw std::invalid_argument("The engine group has no model loaded (open() failed or was not called)");
    return state->engine->debug_features(stream, slot);
  };
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngineGroup::debug_batches(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::pair<RequestKind, int>> batches;
  {
    std::lock_guard<std::mutex> lock(state_->batches_mutex);
    batches.swap(state_->batches);
  }
  Napi::Array result = Napi::Array::New(env, batches.size());
  for (size_t i = 0; i < batches.size(); ++i) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("kind", kind_name(batches[i].first));
    entry.Set("size", batches[i].second);
    result.Set(static_cast<uint32_t>(i), entry);
  }
  return result;
}

Napi::Value NativeEngineGroup::debug_suspend(const Napi::CallbackInfo& info) {
  queue_.set_suspended(true);
  return info.Env().Undefined();
}

Napi::Value NativeEngineGroup::debug_resume(const Napi::CallbackInfo& info) {
  queue_.set_suspended(false);
  return info.Env().Undefined();
}

Napi::Value NativeEngineGroup::dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Resolve(env.Undefined());
    return deferred.Promise();
  }
  queue_.set_suspended(false);  // a suspended group must still be able to finish
  auto state = state_;
  auto task = make_group_task(env, -1, RequestKind::kBarrier, [state] { state->engine.reset(); });
  task->last = true;
  return enqueue(env, std::move(task));
}

Napi::Value NativeEngineGroup::model_info(const Napi::CallbackInfo& info) {
  if (model_info_.IsEmpty()) return info.Env().Undefined();
  return model_info_.Value();
}

Napi::Value NativeEngineGroup::is_disposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), disposed_);
}

}  // namespace sctdiff
