#include "js_convert.h"

#include <cmath>
#include <cstdint>
#include <limits>

namespace sctdiff {
namespace {

int read_int_property(Napi::Env env, const Napi::Object& object, const char* key, const std::string& what,
                      int64_t min_value) {
  const Napi::Value value = object.Get(key);
  if (!value.IsNumber()) {
    throw_invalid_argument(env, "Expected a number for " + what + "." + key + " but received " +
                                    value.ToString().Utf8Value());
  }
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::floor(number) != number || number < static_cast<double>(min_value) ||
      number > static_cast<double>(std::numeric_limits<int>::max())) {
    throw_invalid_argument(env, "Expected an integer >= " + std::to_string(min_value) + " for " + what + "." +
                                    key + " but received " + value.ToString().Utf8Value());
  }
  return static_cast<int>(number);
}

}  // namespace

Napi::Error make_js_error(Napi::Env env, const NativeFailure& failure) {
  Napi::Error error = Napi::Error::New(env, failure.message);
  error.Set("code", Napi::String::New(env, failure.code));
  if (failure.code == "ERR_MODEL_LOAD") {
    error.Set("file", Napi::String::New(env, failure.file));
    error.Set("reason", Napi::String::New(env, failure.reason));
  }
  return error;
}

void throw_invalid_argument(Napi::Env env, const std::string& message) {
  throw make_js_error(env, NativeFailure{"ERR_INVALID_ARGUMENT", message, "", ""});
}

FrameView read_frame(Napi::Env env, const Napi::Value& value, const std::string& what) {
  if (!value.IsObject()) throw_invalid_argument(env, "Expected an object for " + what);
  const Napi::Object object = value.As<Napi::Object>();
  const Napi::Value data = object.Get("data");
  if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw_invalid_argument(env, "Expected a Uint8Array (or Buffer) for " + what + ".data");
  }
  const Napi::Uint8Array bytes = data.As<Napi::Uint8Array>();
  FrameView frame;
  frame.width = read_int_property(env, object, "width", what, 1);
  frame.height = read_int_property(env, object, "height", what, 1);
  frame.stride = read_int_property(env, object, "stride", what, 1);
  const std::string format = object.Get("format").ToString().Utf8Value();
  int channels = 0;
  if (format == "rgb") {
    frame.format = PixelFormat::kRGB, channels = 3;
  } else if (format == "bgr") {
    frame.format = PixelFormat::kBGR, channels = 3;
  } else if (format == "rgba") {
    frame.format = PixelFormat::kRGBA, channels = 4;
  } else if (format == "gray") {
    frame.format = PixelFormat::kGray, channels = 1;
  } else {
    throw_invalid_argument(env, "Expected 'rgb', 'bgr', 'rgba' or 'gray' for " + what + ".format but received " +
                                    format);
  }
  const uint64_t row_bytes = static_cast<uint64_t>(frame.width) * channels;
  if (static_cast<uint64_t>(frame.stride) < row_bytes) {
    throw_invalid_argument(env, "Expected " + what + ".stride >= width x channels = " + std::to_string(row_bytes) +
                                    " but received " + std::to_string(frame.stride));
  }
  // The engine reads exactly this many bytes; a shorter buffer would be an out-of-bounds read.
  const uint64_t needed = static_cast<uint64_t>(frame.stride) * (frame.height - 1) + row_bytes;
  if (bytes.ByteLength() < needed) {
    throw_invalid_argument(env, "Expected at least " + std::to_string(needed) + " bytes in " + what +
                                    ".data but received " + std::to_string(bytes.ByteLength()));
  }
  frame.data = bytes.Data();
  return frame;
}

CropParams read_crop(Napi::Env env, const Napi::Value& value, const std::string& what) {
  if (!value.IsObject()) throw_invalid_argument(env, "Expected an object for " + what);
  const Napi::Object object = value.As<Napi::Object>();
  CropParams crop;
  crop.x0 = read_int_property(env, object, "x0", what, std::numeric_limits<int>::min());
  crop.y0 = read_int_property(env, object, "y0", what, std::numeric_limits<int>::min());
  crop.side = read_int_property(env, object, "side", what, 1);
  crop.output_size = read_int_property(env, object, "outputSize", what, 1);
  return crop;
}

std::vector<int> read_int_array(Napi::Env env, const Napi::Value& value, const std::string& what) {
  if (!value.IsArray()) throw_invalid_argument(env, "Expected an array for " + what);
  const Napi::Array array = value.As<Napi::Array>();
  std::vector<int> result;
  result.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    const Napi::Value item = array.Get(i);
    const double number = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(number) || std::floor(number) != number || std::fabs(number) > 2147483647.0) {
      throw_invalid_argument(env, "Expected an integer for " + what + "[" + std::to_string(i) + "] but received " +
                                      item.ToString().Utf8Value());
    }
    result.push_back(static_cast<int>(number));
  }
  return result;
}

Napi::Object model_info_object(Napi::Env env, const ModelConfig& config) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("name", config.name);
  info.Set("searchSize", config.encoder.search_size);
  info.Set("templateSize", config.encoder.template_size);
  info.Set("searchFactor", config.encoder.search_factor);
  info.Set("templateFactor", config.encoder.template_factor);
  info.Set("clipLength", config.decoder.clip_len);
  info.Set("bins", config.tokens.bins);
  info.Set("rangeMin", config.tokens.range_min);
  info.Set("rangeMax", config.tokens.range_max);
  info.Set("diffusionSteps", config.diffusion.T);
  info.Set("tNew", config.diffusion.t_new);
  info.Set("tRefine", config.diffusion.t_refine);
  info.Set("patch", config.encoder.patch);
  info.Set("encoderDim", config.encoder.dim);
  info.Set("encoderDepth", config.encoder.depth);
  info.Set("decoderDim", config.decoder.dim);
  info.Set("decoderBlocks", config.decoder.blocks);
  info.Set("vocab", config.tokens.vocab);
  return info;
}

int read_template_index(Napi::Env env, const Napi::Value& value) {
  if (!value.IsNumber() || (value.As<Napi::Number>().DoubleValue() != 0 && value.As<Napi::Number>().DoubleValue() != 1)) {
    throw_invalid_argument(env, "Expected template index 0 or 1 but received " + value.ToString().Utf8Value());
  }
  return value.As<Napi::Number>().Int32Value();
}

int read_thread_count(Napi::Env env, const Napi::Value& value) {
  const double threads = value.As<Napi::Number>().DoubleValue();
  if (!(threads >= 0 && threads <= 4096) || static_cast<int>(threads) != threads) {
    throw_invalid_argument(env, "Expected an integer thread count in [0, 4096] but received " + value.ToString().Utf8Value());
  }
  return static_cast<int>(threads);
}

std::string read_backend_name(Napi::Env env, const Napi::Value& value) {
  const std::string backend = value.IsString() ? value.As<Napi::String>().Utf8Value() : value.ToString().Utf8Value();
  if (!value.IsString() || (backend != "cpu" && backend != "cuda")) {
    throw_invalid_argument(env, "Expected backend 'cpu' or 'cuda' but received '" + backend + "'");
  }
  return backend;
}

std::vector<std::string> read_cuda_search_dirs(Napi::Env env, const Napi::Value& value) {
  std::vector<std::string> dirs;
  if (value.IsUndefined()) return dirs;
  if (!value.IsArray()) throw_invalid_argument(env, "Expected cudaSearchDirs to be an array of folder paths");
  const Napi::Array values = value.As<Napi::Array>();
  for (uint32_t i = 0; i < values.Length(); ++i) {
    const Napi::Value dir = values.Get(i);
    if (!dir.IsString()) throw_invalid_argument(env, "Expected cudaSearchDirs[" + std::to_string(i) + "] to be a string");
    dirs.push_back(dir.As<Napi::String>().Utf8Value());
  }
  return dirs;
}

EncodeArguments read_encode_arguments(const Napi::CallbackInfo& info, size_t first, int slot_count) {
  Napi::Env env = info.Env();
  if (!info[first].IsArray() || !info[first + 1].IsArray()) throw_invalid_argument(env, "Expected arrays of frames and crops");
  const Napi::Array frame_values = info[first].As<Napi::Array>();
  const Napi::Array crop_values = info[first + 1].As<Napi::Array>();
  EncodeArguments args;
  args.slots = read_int_array(env, info[first + 2], "slots");
  if (frame_values.Length() != crop_values.Length() || frame_values.Length() != args.slots.size()) {
    throw_invalid_argument(env, "Expected as many crops and slots as frames but received " +
                                    std::to_string(frame_values.Length()) + " frames, " +
                                    std::to_string(crop_values.Length()) + " crops and " +
                                    std::to_string(args.slots.size()) + " slots");
  }
  if (slot_count > 0) {
    for (size_t i = 0; i < args.slots.size(); ++i) {
      if (args.slots[i] < 0 || args.slots[i] >= slot_count) {
        throw_invalid_argument(env, "Expected slots[" + std::to_string(i) + "] in [0, " + std::to_string(slot_count) +
                                        ") but received " + std::to_string(args.slots[i]));
      }
    }
  }
  for (uint32_t i = 0; i < frame_values.Length(); ++i) {
    args.frames.push_back(read_frame(env, frame_values.Get(i), "frames[" + std::to_string(i) + "]"));
    args.crops.push_back(read_crop(env, crop_values.Get(i), "crops[" + std::to_string(i) + "]"));
    args.buffers.push_back(frame_values.Get(i).As<Napi::Object>().Get("data"));
  }
  return args;
}

DecodeArguments read_decode_arguments(const Napi::CallbackInfo& info, size_t first) {
  Napi::Env env = info.Env();
  DecodeArguments args;
  args.slots = read_int_array(env, info[first + 0], "slots");
  if (!info[first + 1].IsTypedArray() || info[first + 1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw_invalid_argument(env, "Expected an Int32Array of tokens");
  }
  if (!info[first + 2].IsTypedArray() || info[first + 2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw_invalid_argument(env, "Expected an Int32Array of timesteps");
  }
  if (!info[first + 3].IsBigInt()) throw_invalid_argument(env, "Expected a bigint seed");
  const Napi::Int32Array token_array = info[first + 1].As<Napi::Int32Array>();
  const Napi::Int32Array timestep_array = info[first + 2].As<Napi::Int32Array>();
  if (token_array.ElementLength() != 4 * args.slots.size() || timestep_array.ElementLength() != args.slots.size()) {
    throw_invalid_argument(env, "Expected 4 tokens and 1 timestep per slot (" + std::to_string(args.slots.size()) +
                                    " slots) but received " + std::to_string(token_array.ElementLength()) +
                                    " tokens and " + std::to_string(timestep_array.ElementLength()) + " timesteps");
  }
  bool lossless = false;
  args.seed = info[first + 3].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw_invalid_argument(env, "Expected a seed in [0, 2^64) but received " + info[first + 3].ToString().Utf8Value());
  // Tokens and timesteps are small: copy them so the caller may reuse its arrays at once.
  args.tokens.assign(token_array.Data(), token_array.Data() + token_array.ElementLength());
  args.timesteps.assign(timestep_array.Data(), timestep_array.Data() + timestep_array.ElementLength());
  return args;
}

}  // namespace sctdiff
