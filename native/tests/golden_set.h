// Reads a goldens directory written by training/make_goldens.py (format:
// test/fixtures/goldens/README.md): manifest.json plus one raw little-endian .bin per array.
#pragma once

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace sctdiff::testing {

class GoldenSet {
 public:
  explicit GoldenSet(std::string dir) : dir_(std::move(dir)) {
    std::ifstream in(dir_ + "/manifest.json");
    if (!in) throw std::runtime_error("Cannot open " + dir_ + "/manifest.json");
    manifest_ = nlohmann::json::parse(in);
    if (manifest_.at("format") != "sct-diff-goldens") throw std::runtime_error("Not a goldens manifest: " + dir_);
  }

  const nlohmann::json& manifest() const { return manifest_; }
  const std::string& dir() const { return dir_; }

  std::vector<int64_t> shape(const std::string& name) const {
    return manifest_.at("arrays").at(name).at("shape").get<std::vector<int64_t>>();
  }

  template <typename T>
  std::vector<T> array(const std::string& name) const {
    const auto& entry = manifest_.at("arrays").at(name);
    const std::string file = dir_ + "/" + entry.at("file").get<std::string>();
    std::ifstream in(file, std::ios::binary | std::ios::ate);
    if (!in) throw std::runtime_error("Cannot open " + file);
    const auto bytes = static_cast<size_t>(in.tellg());
    if (bytes % sizeof(T) != 0) throw std::runtime_error("Size of " + file + " is not a multiple of the element size");
    std::vector<T> values(bytes / sizeof(T));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(bytes));
    return values;
  }

 private:
  std::string dir_;
  nlohmann::json manifest_;
};

}  // namespace sctdiff::testing
