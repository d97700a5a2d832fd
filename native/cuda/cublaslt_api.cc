#include "cublaslt_api.h"

#include <dlfcn.h>

#include <mutex>

namespace sctdiff::cuda::lt {
namespace {

struct Loaded {
  Api api;
  std::string reason;  // empty when loaded
  bool ok = false;
};

template <typename Fn>
bool resolve(void* library, const char* symbol, Fn* out, std::string* missing) {
  void* address = dlsym(library, symbol);
  if (address == nullptr) {
    *missing += std::string(missing->empty() ? "" : ", ") + symbol;
    return false;
  }
  *out = reinterpret_cast<Fn>(address);
  return true;
}

Loaded load_once() {
  Loaded loaded;
  // The soname of the CUDA 13 library first: it matches the runtime we link statically.
  const char* candidates[] = {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"};
  void* library = nullptr;
  std::string errors;
  for (const char* name : candidates) {
    library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (library != nullptr) break;
    const char* error = dlerror();
    errors += std::string(errors.empty() ? "" : "; ") + (error != nullptr ? error : name);
  }
  if (library == nullptr) {
    loaded.reason = "cuBLASLt could not be loaded (" + errors +
                    "). Possible fixes: install cuBLAS for CUDA 13 (apt install libcublas-13-0, or pip install "
                    "nvidia-cublas and add its lib folder to LD_LIBRARY_PATH), or use device: 'cpu'";
    return loaded;
  }
  std::string missing;
  Api& api = loaded.api;
  bool ok = true;
  ok &= resolve(library, "cublasLtCreate", &api.create, &missing);
  ok &= resolve(library, "cublasLtDestroy", &api.destroy, &missing);
  ok &= resolve(library, "cublasLtGetVersion", &api.get_version, &missing);
  ok &= resolve(library, "cublasLtMatmulDescCreate", &api.desc_create, &missing);
  ok &= resolve(library, "cublasLtMatmulDescDestroy", &api.desc_destroy, &missing);
  ok &= resolve(library, "cublasLtMatmulDescSetAttribute", &api.desc_set, &missing);
  ok &= resolve(library, "cublasLtMatrixLayoutCreate", &api.layout_create, &missing);
  ok &= resolve(library, "cublasLtMatrixLayoutDestroy", &api.layout_destroy, &missing);
  ok &= resolve(library, "cublasLtMatrixLayoutSetAttribute", &api.layout_set, &missing);
  ok &= resolve(library, "cublasLtMatmulPreferenceCreate", &api.pref_create, &missing);
  ok &= resolve(library, "cublasLtMatmulPreferenceDestroy", &api.pref_destroy, &missing);
  ok &= resolve(library, "cublasLtMatmulPreferenceSetAttribute", &api.pref_set, &missing);
  ok &= resolve(library, "cublasLtMatmulAlgoGetHeuristic", &api.heuristic, &missing);
  ok &= resolve(library, "cublasLtMatmul", &api.matmul, &missing);
  if (!ok) {
    loaded.reason = "cuBLASLt was found but lacks " + missing +
                    ". Possible fixes: install cuBLAS 12 or 13 matching the driver, or use device: 'cpu'";
    return loaded;
  }
  // The library stays loaded for the life of the process (handles may outlive any one engine).
  loaded.ok = true;
  return loaded;
}

}  // namespace

const Api* load(std::string* reason) {
  static std::once_flag once;
  static Loaded loaded;
  std::call_once(once, [] { loaded = load_once(); });
  if (!loaded.ok) {
    if (reason != nullptr) *reason = loaded.reason;
    return nullptr;
  }
  return &loaded.api;
}

const char* status_name(Status status) {
  switch (status) {
    case 0: return "CUBLAS_STATUS_SUCCESS";
    case 1: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case 3: return "CUBLAS_STATUS_ALLOC_FAILED";
    case 7: return "CUBLAS_STATUS_INVALID_VALUE";
    case 8: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
    case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case 16: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

}  // namespace sctdiff::cuda::lt
