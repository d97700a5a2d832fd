// Conversions between JavaScript values and the engine's C++ types, and the JS form of
// native errors. Everything here runs on the JS thread.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "../engine/config.h"
#include "../engine/engine.h"

namespace sctdiff {

// A native failure captured on the worker thread, turned into a JS Error on the JS thread.
struct NativeFailure {
  std::string code;     // ERR_MODEL_LOAD, ERR_INVALID_ARGUMENT, ERR_NATIVE, ERR_DISPOSED
  std::string message;  // full message
  std::string file;     // ERR_MODEL_LOAD only
  std::string reason;   // ERR_MODEL_LOAD only
};

// Runs `body`, capturing any exception as a NativeFailure. Returns true on success.
template <typename Body>
bool capture_failure(Body&& body, NativeFailure& failure);

// An Error with `code` (and `file`, `reason` for model load errors).
Napi::Error make_js_error(Napi::Env env, const NativeFailure& failure);

// Throws a JS TypeError/RangeError-like Error with code ERR_INVALID_ARGUMENT.
[[noreturn]] void throw_invalid_argument(Napi::Env env, const std::string& message);

// Reads {data: Uint8Array, width, height, stride, format}; validates the buffer's extent.
FrameView read_frame(Napi::Env env, const Napi::Value& value, const std::string& what);
// Reads {x0, y0, side, outputSize}.
CropParams read_crop(Napi::Env env, const Napi::Value& value, const std::string& what);
// Reads an array of integers.
std::vector<int> read_int_array(Napi::Env env, const Napi::Value& value, const std::string& what);

// A template index: 0 (initial) or 1 (dynamic).
int read_template_index(Napi::Env env, const Napi::Value& value);
// A worker thread count: an integer in [0, 4096] (0: one per core).
int read_thread_count(Napi::Env env, const Napi::Value& value);
// A backend name: 'cpu' or 'cuda'.
std::string read_backend_name(Napi::Env env, const Napi::Value& value);
// The folders to look for libsctdiff_cuda.so in (cuda_library.h): an array of strings, or
// undefined for none.
std::vector<std::string> read_cuda_search_dirs(Napi::Env env, const Napi::Value& value);

// encode(frames, crops, slots) arguments. The frames view the callers' buffers: `buffers` are
// their Uint8Arrays, to keep alive until the encode has run.
struct EncodeArguments {
  std::vector<FrameView> frames;
  std::vector<CropParams> crops;
  std::vector<int> slots;
  std::vector<Napi::Value> buffers;
};
// Reads them from info[first], info[first + 1], info[first + 2]; with slot_count > 0 every slot
// must also lie in [0, slot_count) (checked before the frames).
EncodeArguments read_encode_arguments(const Napi::CallbackInfo& info, size_t first, int slot_count);

// decode(slots, tokens: Int32Array, timesteps: Int32Array, seed: bigint) arguments, validated and
// copied (the caller may reuse its arrays at once).
struct DecodeArguments {
  std::vector<int> slots;
  std::vector<int32_t> tokens;
  std::vector<int32_t> timesteps;
  uint64_t seed = 0;
};
// Reads them from info[first], ..., info[first + 3].
DecodeArguments read_decode_arguments(const Napi::CallbackInfo& info, size_t first);

// EngineModelInfo (lib/engine/types.ts) plus the sizes tests and tools want.
Napi::Object model_info_object(Napi::Env env, const ModelConfig& config);

}  // namespace sctdiff

#include "js_convert_inl.h"
