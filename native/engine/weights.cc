// Safetensors reader (docs/model-contract.md, "Config"): 8-byte little-endian header length
// N, N bytes of JSON, then the data buffer. The file is memory-mapped and every field of the
// header is validated before a tensor pointer is handed out, because weight files come from
// users' disks and downloads: a damaged or hostile file must produce a ModelLoadError, never
// a crash or an out-of-bounds read. fuzz/weights_header_fuzzer.cc drives this code.
#include "weights.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <utility>

#include "errors.h"
#include "model_spec.h"

namespace sctdiff {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;
constexpr int kMaxJsonDepth = 16;  // a valid header nests 3 levels deep
constexpr const char* kFormat = "sct-diff";
constexpr const char* kFormatVersion = "1";

// What the user can do about each kind of failure; appended to the reason so the message
// reads like a troubleshooting entry (docs/troubleshooting.md).
constexpr const char* kDamagedHint =
    " The file is damaged or incomplete: copy or download it again, or re-export it with "
    "training/export.py.";
constexpr const char* kNotOursHint =
    " Is this an sct-diff model? Models are exported with training/export.py.";
constexpr const char* kMismatchHint =
    " The weights do not match the config stored in the file: re-export the model with "
    "training/export.py from the same sct-diff version.";

struct LoadFailure {
  std::string reason;
};

[[noreturn]] void fail(std::string reason) { throw LoadFailure{std::move(reason)}; }

std::string quote(const std::string& text) {
  std::string shown = text.size() > 80 ? text.substr(0, 77) + "..." : text;
  return "\"" + shown + "\"";
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string describe(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

// Rejects deeply nested JSON before parsing so a hostile header cannot exhaust the stack.
void check_nesting(const char* text, size_t size) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < size; ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) {
        fail("The header nests JSON deeper than " + std::to_string(kMaxJsonDepth) +
             " levels, which no weight file does." + kDamagedHint);
      }
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;  // unbalanced closers are left for the parser to reject
    }
  }
}

// Parses the header, refusing duplicate keys (nlohmann would silently keep the last one, so a
// tensor could be described twice with different offsets).
json parse_header(const char* text, size_t size) {
  check_nesting(text, size);
  std::vector<std::set<std::string>> keys_per_object;
  std::string duplicate;
  auto on_event = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      keys_per_object.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!keys_per_object.empty()) keys_per_object.pop_back();
    } else if (event == json::parse_event_t::key && !keys_per_object.empty()) {
      const std::string key = parsed.get<std::string>();
      if (!keys_per_object.back().insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text, text + size, on_event, /*allow_exceptions=*/true);
  } catch (const json::exception& error) {
    fail(std::string("The header is not valid JSON (") + error.what() + ")." + kDamagedHint);
  }
  if (!duplicate.empty()) fail("The header names " + quote(duplicate) + " twice." + kDamagedHint);
  if (!header.is_object()) fail("The header is not a JSON object." + std::string(kNotOursHint));
  return header;
}

DType parse_dtype(const std::string& tensor, const json& value) {
  if (value.is_string()) {
    const std::string name = value.get<std::string>();
    if (name == "F32") return DType::kF32;
    if (name == "F16") return DType::kF16;
    if (name == "BF16") return DType::kBF16;
  }
  fail("Tensor " + quote(tensor) + " has dtype " + describe(value) +
       "; sct-diff reads only F32, F16 and BF16 weights. Re-export the model with "
       "training/export.py (it writes F32).");
}

// Element count of a shape, or a failure when it overflows.
uint64_t element_count(const std::string& tensor, const std::vector<int64_t>& shape) {
  uint64_t count = 1;
  for (int64_t extent : shape) {
    const uint64_t dim = static_cast<uint64_t>(extent);
    if (dim != 0 && count > std::numeric_limits<uint64_t>::max() / dim) {
      fail("Tensor " + quote(tensor) + " has shape " + shape_text(shape) +
           " whose element count overflows." + kDamagedHint);
    }
    count *= dim;
  }
  return count;
}

uint64_t read_offset(const std::string& tensor, const json& value) {
  if (!value.is_number_unsigned()) {
    fail("Tensor " + quote(tensor) + " has data offset " + describe(value) +
         ", expected a non-negative integer." + kDamagedHint);
  }
  return value.get<uint64_t>();
}

uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

float half_to_float(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1Fu;
  uint32_t mantissa = half & 0x3FFu;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);  // inf or NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal half: normalize into a float32 normal number.
    int shift = 0;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    mantissa &= 0x3FFu;
    bits = sign | (static_cast<uint32_t>(113 - shift) << 23) | (mantissa << 13);
  }
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

float bf16_to_float(uint16_t bf16) {
  const uint32_t bits = static_cast<uint32_t>(bf16) << 16;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// "a, b, c and 7 more" for error messages.
std::string first_names(const std::vector<std::string>& names) {
  constexpr size_t kShown = 3;
  std::string text;
  for (size_t i = 0; i < names.size() && i < kShown; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > kShown) text += " and " + std::to_string(names.size() - kShown) + " more";
  return text;
}

std::string os_error_reason(int error) {
  switch (error) {
    case ENOENT:
      return "The file does not exist. Check the path (relative paths are resolved from the "
             "current working directory).";
    case EACCES:
      return "Permission denied. Check the file's read permissions.";
    case EISDIR:
      return "The path is a directory, not a weight file. Pass the .safetensors file inside it.";
    default:
      return std::string("The file could not be read (") + std::strerror(error) + ").";
  }
}

}  // namespace

size_t dtype_size(DType dtype) { return dtype == DType::kF32 ? 4 : 2; }

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
  }
  return "?";
}

WeightFile::~WeightFile() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_size_);
}

std::shared_ptr<const WeightFile> WeightFile::open(const std::string& path) {
  std::shared_ptr<WeightFile> file(new WeightFile());
  file->path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ModelLoadError(path, os_error_reason(errno));
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    throw ModelLoadError(path, os_error_reason(error));
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    throw ModelLoadError(path, os_error_reason(EISDIR));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    throw ModelLoadError(path, "The path is not a regular file. Pass a .safetensors file.");
  }
  const size_t size = static_cast<size_t>(info.st_size);
  if (size < 8) {
    ::close(fd);
    throw ModelLoadError(path, "The file is " + std::to_string(size) +
                                   " bytes long, too short for a safetensors header." + kDamagedHint);
  }
  void* mapping = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_error = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (mapping == MAP_FAILED) throw ModelLoadError(path, os_error_reason(map_error));
  file->mapping_ = mapping;
  file->mapping_size_ = size;
  file->identity_ = identify_file(path, info);
  try {
    file->parse_and_validate(static_cast<const uint8_t*>(mapping), size);
  } catch (const LoadFailure& failure) {
    throw ModelLoadError(path, failure.reason);
  }
  return file;
}

std::shared_ptr<const WeightFile> WeightFile::from_bytes(std::vector<uint8_t> bytes, std::string name) {
  std::shared_ptr<WeightFile> file(new WeightFile());
  file->path_ = std::move(name);
  file->owned_ = std::move(bytes);
  try {
    file->parse_and_validate(file->owned_.data(), file->owned_.size());
  } catch (const LoadFailure& failure) {
    throw ModelLoadError(file->path_, failure.reason);
  }
  return file;
}

const TensorInfo& WeightFile::tensor(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw std::out_of_range("weight file " + path_ + " has no tensor " + name);
  return it->second;
}

std::vector<float> WeightFile::to_float32(const std::string& name) const {
  const TensorInfo& info = tensor(name);
  const size_t count = info.nbytes / dtype_size(info.dtype);
  std::vector<float> values(count);
  switch (info.dtype) {
    case DType::kF32:
      if (count > 0) std::memcpy(values.data(), info.data, info.nbytes);
      break;
    case DType::kF16:
      for (size_t i = 0; i < count; ++i) values[i] = half_to_float(load_u16(info.data + 2 * i));
      break;
    case DType::kBF16:
      for (size_t i = 0; i < count; ++i) values[i] = bf16_to_float(load_u16(info.data + 2 * i));
      break;
  }
  return values;
}

void WeightFile::parse_and_validate(const uint8_t* bytes, size_t size) {
  if (size < 8) {
    fail("The file is " + std::to_string(size) + " bytes long, too short for a safetensors header." +
         kDamagedHint);
  }
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | bytes[i];
  if (header_length < 2) {
    fail("The header length field says " + std::to_string(header_length) +
         " bytes, too short for a JSON header." + kDamagedHint);
  }
  if (header_length > kMaxHeaderBytes) {
    fail("The header length field says " + std::to_string(header_length) +
         " bytes, more than the 100 MB limit; this is not a safetensors file or it is damaged." +
         kNotOursHint);
  }
  if (header_length > size - 8) {
    fail("The header length field says " + std::to_string(header_length) + " bytes but only " +
         std::to_string(size - 8) + " bytes follow: the file is truncated." + kDamagedHint);
  }
  const json header = parse_header(reinterpret_cast<const char*>(bytes + 8), header_length);
  const uint8_t* buffer = bytes + 8 + header_length;
  const uint64_t buffer_size = size - 8 - header_length;

  // Metadata: string -> string, must identify an sct-diff model of a version we read.
  auto metadata_it = header.find("__metadata__");
  if (metadata_it == header.end()) {
    fail("The file has no __metadata__ section, so it carries no sct-diff config." +
         std::string(kNotOursHint));
  }
  if (!metadata_it->is_object()) fail("__metadata__ is not a JSON object." + std::string(kDamagedHint));
  for (auto it = metadata_it->begin(); it != metadata_it->end(); ++it) {
    if (!it->is_string()) {
      fail("__metadata__ entry " + quote(it.key()) + " is not a string." + std::string(kDamagedHint));
    }
    metadata_[it.key()] = it->get<std::string>();
  }
  auto format = metadata_.find("format");
  if (format == metadata_.end() || format->second != kFormat) {
    fail(std::string("The file's metadata format is ") +
         (format == metadata_.end() ? "missing" : quote(format->second)) + ", expected \"sct-diff\"." +
         kNotOursHint);
  }
  auto version = metadata_.find("format_version");
  if (version == metadata_.end()) {
    fail("The file's metadata has no format_version." + std::string(kDamagedHint));
  }
  if (version->second != kFormatVersion) {
    fail("The file uses sct-diff weight format version " + quote(version->second) +
         ", but this build of sct-diff reads version \"1\". Use the sct-diff version that wrote the "
         "file, or re-export the model with this version's training/export.py.");
  }
  auto config_text = metadata_.find("config");
  if (config_text == metadata_.end()) fail("The file's metadata has no config." + std::string(kDamagedHint));
  try {
    config_ = parse_model_config(config_text->second);
  } catch (const std::invalid_argument& error) {
    fail(std::string("The model config in the file is invalid: ") + error.what() + "." + kDamagedHint);
  }

  // Tensors: dtype, shape, offsets inside the buffer.
  struct Extent {
    uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Extent> extents;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    const json& entry = it.value();
    if (!entry.is_object()) fail("Tensor " + quote(name) + " is not described by a JSON object." + kDamagedHint);
    for (auto field = entry.begin(); field != entry.end(); ++field) {
      if (field.key() != "dtype" && field.key() != "shape" && field.key() != "data_offsets") {
        fail("Tensor " + quote(name) + " has an unknown field " + quote(field.key()) + "." + kDamagedHint);
      }
    }
    auto dtype_it = entry.find("dtype");
    auto shape_it = entry.find("shape");
    auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || shape_it == entry.end() || offsets_it == entry.end()) {
      fail("Tensor " + quote(name) + " lacks dtype, shape or data_offsets." + kDamagedHint);
    }
    TensorInfo info;
    info.name = name;
    info.dtype = parse_dtype(name, *dtype_it);
    if (!shape_it->is_array()) fail("Tensor " + quote(name) + " has a shape that is not an array." + kDamagedHint);
    for (const json& extent : *shape_it) {
      if (!extent.is_number_integer() || extent.is_number_float()) {
        fail("Tensor " + quote(name) + " has shape entry " + describe(extent) + ", expected an integer." +
             kDamagedHint);
      }
      if (!extent.is_number_unsigned() ||
          extent.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        fail("Tensor " + quote(name) + " has negative or oversized shape entry " + describe(extent) + "." +
             kDamagedHint);
      }
      info.shape.push_back(extent.get<int64_t>());
    }
    const uint64_t count = element_count(name, info.shape);
    if (count > std::numeric_limits<uint64_t>::max() / dtype_size(info.dtype)) {
      fail("Tensor " + quote(name) + " has shape " + shape_text(info.shape) + " whose byte size overflows." +
           kDamagedHint);
    }
    const uint64_t expected_bytes = count * dtype_size(info.dtype);
    if (!offsets_it->is_array() || offsets_it->size() != 2) {
      fail("Tensor " + quote(name) + " has data_offsets " + describe(*offsets_it) + ", expected [begin, end]." +
           kDamagedHint);
    }
    const uint64_t begin = read_offset(name, (*offsets_it)[0]);
    const uint64_t end = read_offset(name, (*offsets_it)[1]);
    if (begin > end) {
      fail("Tensor " + quote(name) + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
           "] that end before they begin." + kDamagedHint);
    }
    if (end > buffer_size) {
      fail("Tensor " + quote(name) + " ends at byte " + std::to_string(end) + " of the data buffer, but the buffer "
           "holds only " + std::to_string(buffer_size) + " bytes: the file is truncated." + kDamagedHint);
    }
    if (end - begin != expected_bytes) {
      fail("Tensor " + quote(name) + " has " + std::to_string(end - begin) + " bytes of data, but dtype " +
           dtype_name(info.dtype) + " and shape " + shape_text(info.shape) + " need " +
           std::to_string(expected_bytes) + "." + kDamagedHint);
    }
    info.data = buffer + begin;
    info.nbytes = static_cast<size_t>(expected_bytes);
    auto inserted = tensors_.emplace(name, std::move(info));
    extents.push_back(Extent{begin, end, &inserted.first->first});
  }
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < extents.size(); ++i) {
    if (extents[i].begin < extents[i - 1].end) {
      fail("Tensors " + quote(*extents[i - 1].name) + " and " + quote(*extents[i].name) +
           " overlap in the data buffer." + kDamagedHint);
    }
  }

  // The tensor set must be exactly the one the config needs, with the same shapes.
  std::vector<std::string> missing, wrong_shape;
  std::set<std::string> expected_names;
  std::string first_shape_detail;
  for (const TensorSpec& spec : expected_tensors(config_)) {
    expected_names.insert(spec.name);
    auto found = tensors_.find(spec.name);
    if (found == tensors_.end()) {
      missing.push_back(spec.name);
    } else if (found->second.shape != spec.shape) {
      if (wrong_shape.empty()) {
        first_shape_detail = spec.name + " is " + shape_text(found->second.shape) + " but config " +
                             quote(config_.name) + " needs " + shape_text(spec.shape);
      }
      wrong_shape.push_back(spec.name);
    }
  }
  std::vector<std::string> unexpected;
  for (const auto& entry : tensors_) {
    if (expected_names.count(entry.first) == 0) unexpected.push_back(entry.first);
  }
  if (!missing.empty() || !unexpected.empty()) {
    std::string reason;
    if (!missing.empty()) {
      reason += std::to_string(missing.size()) + " tensor(s) the config needs are missing: " + first_names(missing) + ".";
    }
    if (!unexpected.empty()) {
      reason += std::string(reason.empty() ? "" : " ") + std::to_string(unexpected.size()) +
                " tensor(s) are not part of the model: " + first_names(unexpected) + ".";
    }
    fail(reason + kMismatchHint);
  }
  if (!wrong_shape.empty()) {
    fail(std::to_string(wrong_shape.size()) + " tensor(s) have the wrong shape: " + first_shape_detail +
         (wrong_shape.size() > 1 ? " (also " + first_names({wrong_shape.begin() + 1, wrong_shape.end()}) + ")"
                                 : std::string()) +
         "." + kMismatchHint);
  }
}

}  // namespace sctdiff
