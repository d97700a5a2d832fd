// Strict parser of the model config JSON stored in the weight file's metadata
// (docs/model-contract.md, "Config"; training/sctdiff/config.py writes it). Every field is
// type- and range-checked so a malformed file fails here with the field's name instead of
// producing nonsense shapes later. Unknown keys are rejected: they mean the file was written
// by a newer exporter that this build does not understand.
#include <cmath>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>

#include "model_spec.h"

namespace sctdiff {
namespace {

using nlohmann::json;

// Sizes above this are certainly not a real model and would only risk overflow downstream.
constexpr int64_t kMaxSize = 1 << 20;

[[noreturn]] void fail(const std::string& field, const std::string& reason) {
  throw std::invalid_argument(field + ": " + reason);
}

std::string describe(const json& value) {
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

const json& member(const json& object, const std::string& section, const char* key) {
  const std::string field = section.empty() ? key : section + "." + key;
  auto it = object.find(key);
  if (it == object.end()) fail(field, "is missing");
  return *it;
}

void reject_unknown_keys(const json& object, const std::string& section,
                         std::initializer_list<const char*> known) {
  std::set<std::string> allowed(known.begin(), known.end());
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (allowed.count(it.key()) == 0) {
      fail(section.empty() ? it.key() : section + "." + it.key(),
           "is not a field of format version 1 (was the file written by a newer exporter?)");
    }
  }
}

const json& section_object(const json& root, const char* key) {
  const json& value = member(root, "", key);
  if (!value.is_object()) fail(key, "expected an object but received " + describe(value));
  return value;
}

int read_int(const json& object, const std::string& section, const char* key, int64_t min_value,
             int64_t max_value = kMaxSize) {
  const json& value = member(object, section, key);
  const std::string field = section + "." + key;
  if (!value.is_number_integer()) fail(field, "expected an integer but received " + describe(value));
  if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(max_value)) {
    fail(field, "expected at most " + std::to_string(max_value) + " but received " + describe(value));
  }
  const int64_t number = value.get<int64_t>();
  if (number < min_value || number > max_value) {
    fail(field, "expected an integer in [" + std::to_string(min_value) + ", " +
                    std::to_string(max_value) + "] but received " + describe(value));
  }
  return static_cast<int>(number);
}

double read_number(const json& value, const std::string& field) {
  if (!value.is_number()) fail(field, "expected a number but received " + describe(value));
  const double number = value.get<double>();
  if (!std::isfinite(number)) fail(field, "expected a finite number but received " + describe(value));
  return number;
}

double read_positive(const json& object, const std::string& section, const char* key) {
  const double number = read_number(member(object, section, key), section + "." + key);
  if (!(number > 0)) {
    fail(section + "." + key, "expected a positive number but received " + describe(object[key]));
  }
  return number;
}

// Reads a positive number that is stored as float in the engine; it must stay positive.
float read_positive_float(const json& object, const std::string& section, const char* key) {
  const double number = read_positive(object, section, key);
  if (number > std::numeric_limits<float>::max() || static_cast<float>(number) <= 0.0f) {
    fail(section + "." + key, "expected a positive float32 value but received " + describe(object[key]));
  }
  return static_cast<float>(number);
}

void read_triple(const json& object, const char* key, float out[3], bool positive) {
  const std::string field = std::string("pixel.") + key;
  const json& value = member(object, "pixel", key);
  if (!value.is_array() || value.size() != 3) {
    fail(field, "expected an array of 3 numbers but received " + describe(value));
  }
  for (size_t c = 0; c < 3; ++c) {
    const double number = read_number(value[c], field + "[" + std::to_string(c) + "]");
    if (positive && !(number > 0)) {
      fail(field + "[" + std::to_string(c) + "]", "expected a positive number but received " + describe(value[c]));
    }
    out[c] = static_cast<float>(number);
  }
}

}  // namespace

void validate_model_config(const ModelConfig& config) {
  const EncoderConfig& e = config.encoder;
  const DecoderConfig& d = config.decoder;
  const TokenConfig& t = config.tokens;
  const DiffusionConfig& diffusion = config.diffusion;
  auto positive = [](int value, const char* field) {
    if (value <= 0 || value > kMaxSize) {
      fail(field, "expected an integer in [1, " + std::to_string(kMaxSize) + "] but received " +
                      std::to_string(value));
    }
  };
  if (config.name.empty()) fail("name", "expected a non-empty string");
  positive(e.patch, "encoder.patch");
  positive(e.dim, "encoder.dim");
  positive(e.depth, "encoder.depth");
  positive(e.heads, "encoder.heads");
  positive(e.mlp, "encoder.mlp");
  positive(e.search_size, "encoder.search_size");
  positive(e.template_size, "encoder.template_size");
  positive(d.dim, "decoder.dim");
  positive(d.blocks, "decoder.blocks");
  positive(d.d_state, "decoder.d_state");
  positive(d.d_conv, "decoder.d_conv");
  positive(d.expand, "decoder.expand");
  positive(d.dt_rank, "decoder.dt_rank");
  positive(d.vis_stride, "decoder.vis_stride");
  positive(d.clip_len, "decoder.clip_len");
  positive(t.bins, "tokens.bins");
  positive(diffusion.T, "diffusion.T");
  if (e.dim % e.heads != 0) {
    fail("encoder.heads", std::to_string(e.heads) + " does not divide encoder.dim " + std::to_string(e.dim));
  }
  if (e.search_size % e.patch != 0) {
    fail("encoder.search_size", std::to_string(e.search_size) + " is not a multiple of encoder.patch " +
                                    std::to_string(e.patch));
  }
  if (e.template_size % e.patch != 0) {
    fail("encoder.template_size", std::to_string(e.template_size) + " is not a multiple of encoder.patch " +
                                      std::to_string(e.patch));
  }
  const int search_grid = e.search_size / e.patch;
  if (search_grid % d.vis_stride != 0) {
    fail("decoder.vis_stride", std::to_string(d.vis_stride) + " does not divide the search grid " +
                                   std::to_string(search_grid) + " (encoder.search_size / encoder.patch)");
  }
  if (d.dim % 2 != 0) {
    fail("decoder.dim", "expected an even width (sinusoidal timestep embedding) but received " +
                            std::to_string(d.dim));
  }
  if (d.dt_rank != (d.dim + 15) / 16) {
    fail("decoder.dt_rank", "expected ceil(decoder.dim / 16) = " + std::to_string((d.dim + 15) / 16) +
                                " but received " + std::to_string(d.dt_rank));
  }
  if (t.vocab != 2 * t.bins + 2 || t.begin != 2 * t.bins || t.end != 2 * t.bins + 1) {
    fail("tokens.vocab", "expected vocab = 2*bins+2 = " + std::to_string(2 * t.bins + 2) +
                             " with begin = 2*bins and end = 2*bins+1 but received vocab " +
                             std::to_string(t.vocab) + ", begin " + std::to_string(t.begin) + ", end " +
                             std::to_string(t.end));
  }
  if (!(std::isfinite(t.range_min) && std::isfinite(t.range_max) && t.range_max > t.range_min)) {
    fail("tokens.range_max", "expected range_max > range_min");
  }
  if (diffusion.t_new < 0 || diffusion.t_new >= diffusion.T) {
    fail("diffusion.t_new", "expected a timestep in [0, T) but received " + std::to_string(diffusion.t_new));
  }
  if (diffusion.t_refine < 0 || diffusion.t_refine >= diffusion.T) {
    fail("diffusion.t_refine", "expected a timestep in [0, T) but received " + std::to_string(diffusion.t_refine));
  }
  if (!(std::isfinite(diffusion.s) && diffusion.s >= 0)) fail("diffusion.s", "expected a finite number >= 0");
}

ModelConfig parse_model_config(const std::string& text) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& error) {
    fail("config", std::string("is not valid JSON (") + error.what() + ")");
  }
  if (!root.is_object()) fail("config", "expected a JSON object but received " + describe(root));
  reject_unknown_keys(root, "", {"name", "encoder", "decoder", "tokens", "diffusion", "pixel"});

  ModelConfig config;
  const json& name = member(root, "", "name");
  if (!name.is_string() || name.get<std::string>().empty()) {
    fail("name", "expected a non-empty string but received " + describe(name));
  }
  config.name = name.get<std::string>();

  const json& encoder = section_object(root, "encoder");
  reject_unknown_keys(encoder, "encoder", {"patch", "dim", "depth", "heads", "mlp", "search_size",
                                           "template_size", "search_factor", "template_factor", "ln_eps"});
  EncoderConfig& e = config.encoder;
  e.patch = read_int(encoder, "encoder", "patch", 1);
  e.dim = read_int(encoder, "encoder", "dim", 1);
  e.depth = read_int(encoder, "encoder", "depth", 1);
  e.heads = read_int(encoder, "encoder", "heads", 1);
  e.mlp = read_int(encoder, "encoder", "mlp", 1);
  e.search_size = read_int(encoder, "encoder", "search_size", 1);
  e.template_size = read_int(encoder, "encoder", "template_size", 1);
  e.search_factor = read_positive_float(encoder, "encoder", "search_factor");
  e.template_factor = read_positive_float(encoder, "encoder", "template_factor");
  e.ln_eps = read_positive_float(encoder, "encoder", "ln_eps");

  const json& decoder = section_object(root, "decoder");
  reject_unknown_keys(decoder, "decoder", {"dim", "blocks", "d_state", "d_conv", "expand", "dt_rank",
                                           "vis_stride", "clip_len", "rms_eps"});
  DecoderConfig& d = config.decoder;
  d.dim = read_int(decoder, "decoder", "dim", 1);
  d.blocks = read_int(decoder, "decoder", "blocks", 1);
  d.d_state = read_int(decoder, "decoder", "d_state", 1);
  d.d_conv = read_int(decoder, "decoder", "d_conv", 1);
  d.expand = read_int(decoder, "decoder", "expand", 1);
  d.dt_rank = read_int(decoder, "decoder", "dt_rank", 1);
  d.vis_stride = read_int(decoder, "decoder", "vis_stride", 1);
  d.clip_len = read_int(decoder, "decoder", "clip_len", 1);
  d.rms_eps = read_positive_float(decoder, "decoder", "rms_eps");

  const json& tokens = section_object(root, "tokens");
  reject_unknown_keys(tokens, "tokens", {"bins", "range_min", "range_max", "vocab", "begin", "end"});
  TokenConfig& t = config.tokens;
  t.bins = read_int(tokens, "tokens", "bins", 1);
  t.vocab = read_int(tokens, "tokens", "vocab", 1, 2 * kMaxSize + 2);
  t.begin = read_int(tokens, "tokens", "begin", 0, 2 * kMaxSize + 2);
  t.end = read_int(tokens, "tokens", "end", 0, 2 * kMaxSize + 2);
  t.range_min = static_cast<float>(read_number(member(tokens, "tokens", "range_min"), "tokens.range_min"));
  t.range_max = static_cast<float>(read_number(member(tokens, "tokens", "range_max"), "tokens.range_max"));

  const json& diffusion = section_object(root, "diffusion");
  reject_unknown_keys(diffusion, "diffusion", {"T", "schedule", "s", "t_new", "t_refine"});
  DiffusionConfig& df = config.diffusion;
  df.T = read_int(diffusion, "diffusion", "T", 1);
  df.t_new = read_int(diffusion, "diffusion", "t_new", 0);
  df.t_refine = read_int(diffusion, "diffusion", "t_refine", 0);
  df.s = read_number(member(diffusion, "diffusion", "s"), "diffusion.s");
  auto schedule = diffusion.find("schedule");
  if (schedule != diffusion.end() && !(schedule->is_string() && schedule->get<std::string>() == "cosine")) {
    fail("diffusion.schedule", "expected \"cosine\" (the only schedule this build implements) but received " +
                                   describe(*schedule));
  }

  // The pixel section is optional: ImageNet statistics (config.h defaults) when absent.
  auto pixel_it = root.find("pixel");
  if (pixel_it != root.end()) {
    const json& pixel = *pixel_it;
    if (!pixel.is_object()) fail("pixel", "expected an object but received " + describe(pixel));
    reject_unknown_keys(pixel, "pixel", {"mean", "std"});
    read_triple(pixel, "mean", config.mean, false);
    read_triple(pixel, "std", config.std, true);
  }

  validate_model_config(config);
  return config;
}

}  // namespace sctdiff
