// Opens libsctdiff_cuda.so at run time (dlopen) so the addon itself never links CUDA
// (DESIGN.md "Backends and loading", native/cuda/README.md). Every failure — library not
// found, not a shared object, a missing symbol, an ABI mismatch, no device/driver/cuBLASLt —
// becomes a message with possible fixes, never a crash.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../engine/batch_engine.h"
#include "../engine/engine.h"

namespace sctdiff {

// File name of the CUDA backend library, as scripts/prebuild.mjs and native/cuda build it.
inline constexpr const char* kCudaLibraryName = "libsctdiff_cuda.so";

// An engine whose deleter knows where it was allocated (the CPU engine: delete; a CUDA
// engine: sctdiff_cuda_destroy_engine inside the library).
using OwnedEngine = std::unique_ptr<Engine, std::function<void(Engine*)>>;
// The same for a batch engine (native/engine/batch_engine.h).
using OwnedBatchEngine = std::unique_ptr<BatchEngine, std::function<void(BatchEngine*)>>;

// What probing the CUDA backend found. `device_summary` is the probe's one line when
// available; `reason` says why not (or, when available, which device and library).
struct CudaProbeResult {
  bool available = false;
  std::string reason;
  std::string device_summary;
  std::string library_path;  // empty when no library could be loaded
};

// The library file that would be tried, in order: $SCTDIFF_CUDA_LIBRARY alone when set,
// else `<dir>/libsctdiff_cuda.so` for each of `search_dirs` (the loaded addon's folder, then
// build/cuda of a source checkout).
std::vector<std::string> cuda_library_candidates(const std::vector<std::string>& search_dirs);

// Loads the library (cached per path for the life of the process: it is never dlclose'd,
// since the CUDA runtime registers exit handlers), checks its ABI version and runs its probe.
// Thread-safe; never throws.
CudaProbeResult probe_cuda(const std::vector<std::string>& search_dirs);

// Loads the library, probes it, and creates an engine for `weights_path` on the device of
// $SCTDIFF_CUDA_DEVICE (default 0). Throws BackendUnavailableError (library or device
// unusable, with the probe's reason), ModelLoadError (the weight file), or
// std::runtime_error (a CUDA failure).
OwnedEngine create_cuda_engine(const std::string& weights_path, const std::vector<std::string>& search_dirs);

// The same for a batch engine serving many streams (an EngineGroup on device 'cuda').
OwnedBatchEngine create_cuda_batch_engine(const std::string& weights_path, const std::vector<std::string>& search_dirs);

}  // namespace sctdiff
