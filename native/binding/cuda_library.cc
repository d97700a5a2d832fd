#include "cuda_library.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>

#include "../cuda/sctdiff_cuda.h"
#include "../engine/errors.h"

namespace sctdiff {

namespace {

constexpr size_t kMessageSize = 4096;

// Fixes shared by every "the library cannot be used" message.
const char* const kLibraryFixes =
    "Possible fixes: build it with `npm run build:prebuilds` on a machine with nvcc and cmake (it lands in "
    "prebuilds/linux-x64/libsctdiff_cuda.so next to the addon), point SCTDIFF_CUDA_LIBRARY at a built "
    "libsctdiff_cuda.so, or use device 'cpu'";

using CreateFunction = int (*)(const char*, int, void**, char*, size_t);
using DestroyFunction = void (*)(void*);

// The C functions of sctdiff_cuda.h, resolved from one loaded library.
struct CudaLibrary {
  std::string path;
  int (*abi_version)() = nullptr;
  int (*probe)(int, char*, size_t) = nullptr;
  CreateFunction create_engine = nullptr;
  DestroyFunction destroy_engine = nullptr;
  int (*engine_stats)(void*, char*, size_t) = nullptr;
  CreateFunction create_batch_engine = nullptr;
  DestroyFunction destroy_batch_engine = nullptr;
  int (*batch_engine_stats)(void*, char*, size_t) = nullptr;
};

// Libraries loaded so far, by path. Only successfully checked ones are kept; failures are
// retried on the next call (the user may have fixed the host meanwhile).
std::mutex loaded_mutex;
std::map<std::string, std::shared_ptr<const CudaLibrary>> loaded;

bool file_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

template <typename Function>
bool resolve(void* handle, const char* name, Function& target, std::vector<std::string>& missing) {
  void* symbol = ::dlsym(handle, name);
  if (symbol == nullptr) {
    missing.emplace_back(name);
    return false;
  }
  target = reinterpret_cast<Function>(symbol);
  return true;
}

// dlopen + dlsym + ABI check of one file. On failure returns null and sets `error`.
std::shared_ptr<const CudaLibrary> load_library(const std::string& path, std::string& error) {
  std::lock_guard<std::mutex> lock(loaded_mutex);
  auto found = loaded.find(path);
  if (found != loaded.end()) return found->second;
  ::dlerror();  // clears a stale message
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* detail = ::dlerror();
    error = "the CUDA library " + path + " could not be loaded (" + (detail ? detail : "unknown dlopen error") +
            "). It must be a libsctdiff_cuda.so built for this platform; a dependency it names may also be " +
            "missing (check with `ldd " + path + "`). " + kLibraryFixes;
    return nullptr;
  }
  auto library = std::make_shared<CudaLibrary>();
  library->path = path;
  std::vector<std::string> missing;
  resolve(handle, "sctdiff_cuda_abi_version", library->abi_version, missing);
  resolve(handle, "sctdiff_cuda_probe", library->probe, missing);
  resolve(handle, "sctdiff_cuda_create_engine", library->create_engine, missing);
  resolve(handle, "sctdiff_cuda_destroy_engine", library->destroy_engine, missing);
  resolve(handle, "sctdiff_cuda_engine_stats", library->engine_stats, missing);
  resolve(handle, "sctdiff_cuda_create_batch_engine", library->create_batch_engine, missing);
  resolve(handle, "sctdiff_cuda_destroy_batch_engine", library->destroy_batch_engine, missing);
  resolve(handle, "sctdiff_cuda_batch_engine_stats", library->batch_engine_stats, missing);
  // The handle is never closed, even on failure: a library with a CUDA runtime inside may
  // already have registered exit handlers in its static initializers. A library of another ABI
  // version says so first: it may lack this version's functions, and "rebuild" is the fix.
  const int version = library->abi_version != nullptr ? library->abi_version() : SCTDIFF_CUDA_ABI_VERSION;
  if (version != SCTDIFF_CUDA_ABI_VERSION) {
    error = "the CUDA library " + path + " has ABI version " + std::to_string(version) + " but this addon needs " +
            std::to_string(SCTDIFF_CUDA_ABI_VERSION) +
            ". Possible fixes: rebuild both from the same sct-diff sources (`npm run build:prebuilds`), or point "
            "SCTDIFF_CUDA_LIBRARY at a matching build, or use device 'cpu'";
    return nullptr;
  }
  if (!missing.empty()) {
    error = "the CUDA library " + path + " does not export " + join(missing) +
            " (it is not a libsctdiff_cuda.so, or one from an incompatible sct-diff version). " + kLibraryFixes;
    return nullptr;
  }
  loaded.emplace(path, library);
  return library;
}

// The first candidate that exists, loaded and checked. On failure returns null and sets `error`.
std::shared_ptr<const CudaLibrary> find_library(const std::vector<std::string>& search_dirs, std::string& error) {
  const std::vector<std::string> candidates = cuda_library_candidates(search_dirs);
  for (const auto& candidate : candidates) {
    if (!file_exists(candidate)) continue;
    // Absolute, so dlopen never searches LD_LIBRARY_PATH for a relative name.
    char* absolute = ::realpath(candidate.c_str(), nullptr);
    const std::string path = absolute != nullptr ? absolute : candidate;
    std::free(absolute);
    return load_library(path, error);
  }
  const char* override_path = std::getenv("SCTDIFF_CUDA_LIBRARY");
  error = std::string("the CUDA library was not found at ") + (candidates.empty() ? "(no folder to search)" : join(candidates)) +
          (override_path != nullptr && *override_path != '\0' ? " (SCTDIFF_CUDA_LIBRARY)" : "") + ". " + kLibraryFixes;
  return nullptr;
}

// $SCTDIFF_CUDA_DEVICE, else 0 (the library reads the same variable at engine creation).
int requested_device() {
  const char* text = std::getenv("SCTDIFF_CUDA_DEVICE");
  if (text == nullptr || *text == '\0') return 0;
  char* end = nullptr;
  const long device = std::strtol(text, &end, 10);
  return (*end == '\0' && device >= 0 && device < 1024) ? static_cast<int>(device) : 0;
}

// "Could not load model "<file>": <reason>" (ModelLoadError::what() in the library) split back.
ModelLoadError model_error(const std::string& weights_path, const std::string& message) {
  const std::string prefix = "Could not load model \"" + weights_path + "\": ";
  if (message.compare(0, prefix.size(), prefix) == 0) return ModelLoadError(weights_path, message.substr(prefix.size()));
  return ModelLoadError(weights_path, message);
}

}  // namespace

std::vector<std::string> cuda_library_candidates(const std::vector<std::string>& search_dirs) {
  const char* override_path = std::getenv("SCTDIFF_CUDA_LIBRARY");
  if (override_path != nullptr && *override_path != '\0') return {override_path};
  std::vector<std::string> candidates;
  for (const auto& dir : search_dirs) {
    if (dir.empty()) continue;
    candidates.push_back(dir + (dir.back() == '/' ? "" : "/") + kCudaLibraryName);
  }
  return candidates;
}

CudaProbeResult probe_cuda(const std::vector<std::string>& search_dirs) {
  CudaProbeResult result;
  try {
    std::string error;
    auto library = find_library(search_dirs, error);
    if (!library) {
      result.reason = error;
      return result;
    }
    result.library_path = library->path;
    char info[kMessageSize] = {0};
    const int status = library->probe(requested_device(), info, sizeof info);
    if (status == SCTDIFF_CUDA_OK) {
      result.available = true;
      result.device_summary = info;
      result.reason = std::string("CUDA device ") + info + " (library " + library->path + ")";
    } else {
      result.reason = std::string(info[0] != '\0' ? info : "the CUDA probe failed without a message") + " (library " +
                      library->path + ")";
    }
  } catch (const std::exception& error) {
    result.available = false;
    result.reason = std::string("probing the CUDA backend failed: ") + error.what();
  }
  return result;
}

namespace {

// The library, probed: throws BackendUnavailableError with the reason when it cannot be used.
std::shared_ptr<const CudaLibrary> usable_library(const std::vector<std::string>& search_dirs) {
  std::string error;
  auto library = find_library(search_dirs, error);
  if (!library) throw BackendUnavailableError("The CUDA backend cannot be used: " + error);
  char probe_info[kMessageSize] = {0};
  if (library->probe(requested_device(), probe_info, sizeof probe_info) != SCTDIFF_CUDA_OK) {
    throw BackendUnavailableError(std::string("The CUDA backend cannot be used: ") + probe_info + " (library " +
                                  library->path + ")");
  }
  return library;
}

// Calls one of the library's create functions; returns the handle or throws the typed error
// its status stands for.
void* create_with(CreateFunction create, const std::string& weights_path, const char* what) {
  void* handle = nullptr;
  char message[kMessageSize] = {0};
  const int status = create(weights_path.c_str(), requested_device(), &handle, message, sizeof message);
  if (status == SCTDIFF_CUDA_OK && handle != nullptr) return handle;
  switch (status) {
    case SCTDIFF_CUDA_MODEL_ERROR:
      throw model_error(weights_path, message);
    case SCTDIFF_CUDA_UNAVAILABLE:
      throw BackendUnavailableError(std::string("The CUDA backend cannot be used: ") + message);
    case SCTDIFF_CUDA_BAD_ARGUMENT:
      throw std::invalid_argument(message);
    default:
      throw std::runtime_error(std::string("The CUDA ") + what + " could not be created: " +
                               (message[0] != '\0' ? message : "no message (status " + std::to_string(status) + ")"));
  }
}

}  // namespace

OwnedEngine create_cuda_engine(const std::string& weights_path, const std::vector<std::string>& search_dirs) {
  auto library = usable_library(search_dirs);
  void* handle = create_with(library->create_engine, weights_path, "engine");
  // The library object stays alive in `loaded`, so `destroy` outlives every engine.
  auto destroy = library->destroy_engine;
  return OwnedEngine(static_cast<Engine*>(handle), [destroy](Engine* engine) { destroy(engine); });
}

OwnedBatchEngine create_cuda_batch_engine(const std::string& weights_path, const std::vector<std::string>& search_dirs) {
  auto library = usable_library(search_dirs);
  void* handle = create_with(library->create_batch_engine, weights_path, "batch engine");
  auto destroy = library->destroy_batch_engine;
  return OwnedBatchEngine(static_cast<BatchEngine*>(handle), [destroy](BatchEngine* engine) { destroy(engine); });
}

}  // namespace sctdiff
