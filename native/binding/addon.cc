// Entry point of the sct-diff addon: the NativeEngine class, inspectModel(), and what this
// build contains. Loaded by lib/engine/native.ts through node-gyp-build.
#include <napi.h>

#include <algorithm>
#include <vector>

#include "../engine/model_spec.h"
#include "../engine/weights.h"
#include "js_convert.h"
#include "native_engine.h"

namespace sctdiff {
namespace {

// inspectModel(path): validates a weight file and describes it without building an engine.
// Synchronous: validation reads only the header (the tensor data is mapped, not read).
Napi::Value inspect_model(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw_invalid_argument(env, "Expected a model path string");
  std::shared_ptr<const WeightFile> weights;
  NativeFailure failure;
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  if (!capture_failure([&] { weights = WeightFile::open(path); }, failure)) throw make_js_error(env, failure);
  Napi::Object result = Napi::Object::New(env);
  result.Set("path", weights->path());
  result.Set("model", model_info_object(env, weights->config()));
  double parameters = 0;
  Napi::Object dtypes = Napi::Object::New(env);
  for (const auto& entry : weights->tensors()) {
    parameters += static_cast<double>(entry.second.nbytes / dtype_size(entry.second.dtype));
    const char* dtype = dtype_name(entry.second.dtype);
    const double count = dtypes.Has(dtype) ? dtypes.Get(dtype).As<Napi::Number>().DoubleValue() : 0;
    dtypes.Set(dtype, count + 1);
  }
  result.Set("tensorCount", static_cast<double>(weights->tensors().size()));
  result.Set("parameterCount", parameters);
  result.Set("dtypes", dtypes);
  Napi::Object metadata = Napi::Object::New(env);
  for (const auto& entry : weights->metadata()) metadata.Set(entry.first, entry.second);
  result.Set("metadata", metadata);
  return result;
}

// readTensor(path, name): one weight as float32 (F16/BF16 converted), for tools and tests.
Napi::Value read_tensor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    throw_invalid_argument(env, "Expected readTensor(modelPath: string, tensorName: string)");
  }
  std::vector<float> values;
  NativeFailure failure;
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const std::string name = info[1].As<Napi::String>().Utf8Value();
  if (!capture_failure([&] { values = WeightFile::open(path)->to_float32(name); }, failure)) {
    throw make_js_error(env, failure);
  }
  Napi::Float32Array result = Napi::Float32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), result.Data());
  return result;
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeEngine", NativeEngine::define(env));
  exports.Set("inspectModel", Napi::Function::New(env, inspect_model, "inspectModel"));
  exports.Set("readTensor", Napi::Function::New(env, read_tensor, "readTensor"));
  Napi::Object build = Napi::Object::New(env);
  build.Set("cpu", cpu_backend_built());
  build.Set("napiVersion", NAPI_VERSION);
  exports.Set("build", build);
  return exports;
}

}  // namespace
}  // namespace sctdiff

static Napi::Object init_addon(Napi::Env env, Napi::Object exports) { return sctdiff::init(env, exports); }

NODE_API_MODULE(sct_diff, init_addon)
