// Entry point of the sct-diff addon: the NativeEngine class, inspectModel(), probeCuda(), and what this
// build contains. Loaded by lib/engine/native.ts through node-gyp-build.
#include <napi.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../engine/model_spec.h"
#include "../engine/weight_cache.h"
#include "../engine/weights.h"
#include "cuda_library.h"
#include "engine_group.h"
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

// The probe's one line "<name>; compute 9.0; 132 SMs; 79.1 GiB; driver 13.0; runtime 13.0;
// cublasLt 130100" (sctdiff_cuda.h) as {name, computeCapability, multiprocessors, memoryGiB,
// driverVersion, runtimeVersion, cublasLtVersion, summary}. Unknown fields are kept as text.
Napi::Object device_object(Napi::Env env, const std::string& summary) {
  Napi::Object device = Napi::Object::New(env);
  device.Set("summary", summary);
  size_t start = 0;
  for (int index = 0; start <= summary.size(); ++index) {
    size_t end = summary.find("; ", start);
    if (end == std::string::npos) end = summary.size();
    const std::string field = summary.substr(start, end - start);
    start = end + 2;
    if (index == 0) {
      device.Set("name", field);
      continue;
    }
    // "compute 9.0" and "driver 13.0" put the key first; "132 SMs" and "79.1 GiB" put it last.
    const size_t space = field.find(' ');
    if (space == std::string::npos) continue;
    const std::string head = field.substr(0, space);
    const std::string tail = field.substr(space + 1);
    if (head == "compute") device.Set("computeCapability", tail);
    else if (head == "driver") device.Set("driverVersion", tail);
    else if (head == "runtime") device.Set("runtimeVersion", tail);
    else if (head == "cublasLt") device.Set("cublasLtVersion", tail);
    else if (tail == "SMs") device.Set("multiprocessors", std::stod(head));
    else if (tail == "GiB") device.Set("memoryGiB", std::stod(head));
    else device.Set(tail, head);
  }
  return device;
}

// probeCuda(searchDirs: string[]): whether libsctdiff_cuda.so loads and sees a usable device
// (cuda_library.h). Never throws for a host problem: that is {available: false, reason}.
Napi::Value probe_cuda_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> dirs;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsArray()) throw_invalid_argument(env, "Expected probeCuda(searchDirs: string[])");
    Napi::Array array = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); ++i) {
      Napi::Value dir = array.Get(i);
      if (!dir.IsString()) throw_invalid_argument(env, "Expected searchDirs[" + std::to_string(i) + "] to be a string");
      dirs.push_back(dir.As<Napi::String>().Utf8Value());
    }
  }
  const CudaProbeResult probe = probe_cuda(dirs);
  Napi::Object result = Napi::Object::New(env);
  result.Set("available", probe.available);
  result.Set("reason", probe.reason);
  Napi::Array candidates = Napi::Array::New(env);
  for (const auto& candidate : cuda_library_candidates(dirs)) candidates.Set(candidates.Length(), candidate);
  result.Set("searched", candidates);
  if (!probe.library_path.empty()) result.Set("library", probe.library_path);
  if (probe.available) {
    try {
      result.Set("device", device_object(env, probe.device_summary));
    } catch (const std::exception&) {
      // A summary of another shape (a newer library): keep the text rather than fail the probe.
      Napi::Object device = Napi::Object::New(env);
      device.Set("summary", probe.device_summary);
      result.Set("device", device);
    }
  }
  return result;
}

// _debugWeightSets(): the weight sets alive in this process (weight_cache.h) as
// [{id, path, memorySpace, engines, bytes}], so tests can check that engines of one model share
// one set and that disposing them frees it. Engines of the CUDA library have their own cache
// inside that library and are not listed.
Napi::Value debug_weight_sets(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array sets = Napi::Array::New(env);
  for (const WeightSetInfo& set : WeightCache::process().live()) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("id", static_cast<double>(set.id));
    entry.Set("path", set.path);
    entry.Set("memorySpace", set.memory_space);
    entry.Set("engines", static_cast<double>(set.engines));
    entry.Set("bytes", static_cast<double>(set.bytes));
    sets.Set(sets.Length(), entry);
  }
  return sets;
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeEngine", NativeEngine::define(env));
  exports.Set("NativeEngineGroup", NativeEngineGroup::define(env));
  exports.Set("inspectModel", Napi::Function::New(env, inspect_model, "inspectModel"));
  exports.Set("readTensor", Napi::Function::New(env, read_tensor, "readTensor"));
  exports.Set("probeCuda", Napi::Function::New(env, probe_cuda_js, "probeCuda"));
  // Test hook (native/binding/NOTES.md), like the engine's _debug* methods.
  exports.Set("_debugWeightSets", Napi::Function::New(env, debug_weight_sets, "_debugWeightSets"));
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
