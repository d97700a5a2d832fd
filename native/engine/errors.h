// Typed native errors. A ModelLoadError carries the weight file and a human-readable reason
// separately so the binding can hand both to JavaScript (lib/errors.ts ModelLoadError).
#pragma once

#include <stdexcept>
#include <string>

namespace sctdiff {

class ModelLoadError : public std::runtime_error {
 public:
  ModelLoadError(std::string file, std::string reason)
      : std::runtime_error("Could not load model \"" + file + "\": " + reason),
        file_(std::move(file)),
        reason_(std::move(reason)) {}

  const std::string& file() const { return file_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string file_;
  std::string reason_;
};

// The requested backend is not part of this build (e.g. its sources were not compiled in).
class BackendUnavailableError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace sctdiff
