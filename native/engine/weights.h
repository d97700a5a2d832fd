// A validated safetensors weight file (docs/model-contract.md). The file is memory-mapped and
// never trusted: every length, offset, dtype and shape is checked before a tensor is exposed,
// and the tensor set must match expected_tensors(config) exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "file_identity.h"

namespace sctdiff {

enum class DType { kF32, kF16, kBF16 };

// Bytes per element of a dtype.
size_t dtype_size(DType dtype);
// The safetensors spelling ("F32", "F16", "BF16").
const char* dtype_name(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // points into the mapping; valid while the WeightFile lives
  size_t nbytes = 0;
};

class WeightFile {
 public:
  // Memory-maps `path` and validates it fully. Throws ModelLoadError naming the file.
  static std::shared_ptr<const WeightFile> open(const std::string& path);
  // The same validation on an in-memory copy (tests, fuzzing). `name` stands for the path
  // in error messages.
  static std::shared_ptr<const WeightFile> from_bytes(std::vector<uint8_t> bytes, std::string name);

  ~WeightFile();
  WeightFile(const WeightFile&) = delete;
  WeightFile& operator=(const WeightFile&) = delete;

  const ModelConfig& config() const { return config_; }
  // Throws std::out_of_range naming the tensor when it does not exist.
  const TensorInfo& tensor(const std::string& name) const;
  bool has_tensor(const std::string& name) const { return tensors_.count(name) != 0; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  // The tensor's values as float32 (F16/BF16 converted exactly, F32 copied).
  std::vector<float> to_float32(const std::string& name) const;
  // The path given to open() or the name given to from_bytes().
  const std::string& path() const { return path_; }
  // The file that open() mapped; none for from_bytes() (such weights are never shared).
  const std::optional<FileIdentity>& identity() const { return identity_; }
  // Raw metadata strings of the header (format, format_version, config, ...).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  WeightFile() = default;
  void parse_and_validate(const uint8_t* bytes, size_t size);

  std::string path_;
  std::optional<FileIdentity> identity_;
  ModelConfig config_;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
  // Exactly one of these owns the bytes.
  std::vector<uint8_t> owned_;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
};

}  // namespace sctdiff
