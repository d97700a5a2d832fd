#include "cuda_engine.h"

#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "../engine/errors.h"
#include "../engine/network.h"
#include "../engine/weights.h"
#include "cuda_batch_engine.h"
#include "cuda_error.h"
#include "cuda_phase_scope.h"
#include "nvtx_ranges.h"
#include "sctdiff_cuda.h"

namespace sctdiff::cuda {
namespace {

std::unique_ptr<Engine> make_inner(std::shared_ptr<const WeightFile> weights, const CudaBackendOptions& options,
                                   CudaBackend** backend) {
  auto owned = std::make_unique<CudaBackend>(options);
  *backend = owned.get();
  std::unique_ptr<Engine> engine = create_backend_engine(std::move(owned), std::move(weights));
  (*backend)->synchronize();  // weights resident before the first call
  return engine;
}

}  // namespace

CudaEngine::CudaEngine(std::shared_ptr<const WeightFile> weights, const CudaBackendOptions& options)
    : backend_(nullptr), inner_(make_inner(std::move(weights), options, &backend_)) {}

void CudaEngine::set_template(int index, const FrameView& frame, const CropParams& crop) {
  NvtxRange range(phase::kFrame);
  PhaseScope scope(*backend_, phase::kEncoder);
  inner_->set_template(index, frame, crop);
}

void CudaEngine::encode(const std::vector<FrameView>& frames, const std::vector<CropParams>& crops,
                        const std::vector<int>& slots) {
  NvtxRange range(phase::kFrame);
  PhaseScope scope(*backend_, phase::kEncoder);
  inner_->encode(frames, crops, slots);
}

DecodeOutput CudaEngine::decode(const std::vector<int>& slots, const std::vector<int32_t>& tokens,
                                const std::vector<int32_t>& timesteps, uint64_t seed) {
  NvtxRange range(phase::kFrame);
  PhaseScope scope(*backend_, phase::kDecoder);
  return inner_->decode(slots, tokens, timesteps, seed);
}

std::vector<float> CudaEngine::debug_preprocess(const FrameView& frame, const CropParams& crop) {
  PhaseScope scope(*backend_, phase::kPreprocess);
  return inner_->debug_preprocess(frame, crop);
}

std::vector<float> CudaEngine::debug_features(int slot) {
  PhaseScope scope(*backend_, nullptr);
  return inner_->debug_features(slot);
}

CudaEngine::~CudaEngine() {
  try {
    backend_->make_current();  // the engine may be destroyed on another thread than it was used on
  } catch (...) {
  }
  inner_.reset();
}

DecodeOutput CudaEngine::debug_decode(const std::vector<int>& slots, const std::vector<int32_t>& tokens,
                                      const std::vector<int32_t>& timesteps, uint64_t seed) {
  PhaseScope scope(*backend_, phase::kDecoder);
  return inner_->debug_decode(slots, tokens, timesteps, seed);
}

}  // namespace sctdiff::cuda

// ---------------------------------------------------------------------------------------------
// C ABI (sctdiff_cuda.h): every entry point catches everything.

namespace {

void write_text(char* out, size_t size, const std::string& text) {
  if (out == nullptr || size == 0) return;
  const size_t n = std::min(size - 1, text.size());
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

std::string version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

std::string stats_json(sctdiff::cuda::CudaBackend& backend) {
  const auto& stats = backend.stats();
  return "{\"gemm\": \"" + backend.gemm_description() + "\", \"flushes\": " + std::to_string(stats.flushes) +
         ", \"graph_launches\": " + std::to_string(stats.graph_launches) +
         ", \"graph_captures\": " + std::to_string(stats.graph_captures) +
         ", \"eager_ops\": " + std::to_string(stats.eager_ops) + ", \"frames\": " + std::to_string(stats.frames) +
         ", \"frame_uploads\": " + std::to_string(stats.frame_uploads) + "}";
}

// The shared body of the create functions: argument checks, options from the environment, the
// weight file, and every exception mapped to its status code with its message in `error`.
template <typename Make>
int create_with_status(const char* what, const char* weights_path, int device, void** engine, char* error,
                       size_t error_size, Make make) {
  using namespace sctdiff::cuda;
  if (engine == nullptr) {
    write_text(error, error_size, "Expected an engine out-pointer but received NULL");
    return SCTDIFF_CUDA_BAD_ARGUMENT;
  }
  *engine = nullptr;
  if (weights_path == nullptr) {
    write_text(error, error_size, "Expected a weight file path but received NULL");
    return SCTDIFF_CUDA_BAD_ARGUMENT;
  }
  try {
    CudaBackendOptions defaults;
    defaults.device = device;
    const CudaBackendOptions options = options_from_environment(defaults);
    *engine = make(sctdiff::WeightFile::open(weights_path), options);
    return SCTDIFF_CUDA_OK;
  } catch (const sctdiff::ModelLoadError& e) {
    write_text(error, error_size, e.what());
    return SCTDIFF_CUDA_MODEL_ERROR;
  } catch (const CudaUnavailableError& e) {
    write_text(error, error_size, e.what());
    return SCTDIFF_CUDA_UNAVAILABLE;
  } catch (const std::invalid_argument& e) {
    write_text(error, error_size, e.what());
    return SCTDIFF_CUDA_BAD_ARGUMENT;
  } catch (const std::exception& e) {
    write_text(error, error_size, e.what());
    return SCTDIFF_CUDA_ERROR;
  } catch (...) {
    write_text(error, error_size, std::string("Unknown error while creating ") + what);
    return SCTDIFF_CUDA_ERROR;
  }
}

}  // namespace

extern "C" {

int sctdiff_cuda_abi_version(void) { return SCTDIFF_CUDA_ABI_VERSION; }

int sctdiff_cuda_probe(int device, char* info, size_t size) {
  using namespace sctdiff::cuda;
  try {
    int driver = 0, runtime = 0, count = 0;
    cudaRuntimeGetVersion(&runtime);
    cudaDriverGetVersion(&driver);  // 0 when no driver is installed
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess || count == 0) {
      (void)cudaGetLastError();
      write_text(info, size,
                 "No usable CUDA device (" + (status != cudaSuccess ? describe_cuda_status(status) : std::string("0 devices")) +
                     "; driver " + (driver == 0 ? std::string("none") : version_text(driver)) + ", runtime " +
                     version_text(runtime) + ")");
      return SCTDIFF_CUDA_UNAVAILABLE;
    }
    if (device < 0 || device >= count) {
      write_text(info, size, "Expected a CUDA device index in [0, " + std::to_string(count - 1) + "] but received " +
                                 std::to_string(device));
      return SCTDIFF_CUDA_BAD_ARGUMENT;
    }
    cudaDeviceProp prop{};
    check_cuda(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    std::string reason;
    const lt::Api* api = lt::load(&reason);
    char memory[32];
    std::snprintf(memory, sizeof(memory), "%.1f", static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    std::string text = std::string(prop.name) + "; compute " + std::to_string(prop.major) + "." + std::to_string(prop.minor) +
                       "; " + std::to_string(prop.multiProcessorCount) + " SMs; " + memory + " GiB; driver " +
                       version_text(driver) + "; runtime " + version_text(runtime);
    if (api == nullptr) {
      write_text(info, size, text + "; " + reason);
      return SCTDIFF_CUDA_UNAVAILABLE;
    }
    write_text(info, size, text + "; cublasLt " + std::to_string(api->get_version()));
    return SCTDIFF_CUDA_OK;
  } catch (const std::exception& e) {
    write_text(info, size, e.what());
    return SCTDIFF_CUDA_ERROR;
  } catch (...) {
    write_text(info, size, "Unknown error while probing CUDA");
    return SCTDIFF_CUDA_ERROR;
  }
}

int sctdiff_cuda_create_engine(const char* weights_path, int device, void** engine, char* error, size_t error_size) {
  return create_with_status("the CUDA engine", weights_path, device, engine, error, error_size,
                            [](std::shared_ptr<const sctdiff::WeightFile> weights, const sctdiff::cuda::CudaBackendOptions& options) {
                              return static_cast<void*>(static_cast<sctdiff::Engine*>(
                                  new sctdiff::cuda::CudaEngine(std::move(weights), options)));
                            });
}

void sctdiff_cuda_destroy_engine(void* engine) { delete static_cast<sctdiff::Engine*>(engine); }

int sctdiff_cuda_engine_stats(void* engine, char* info, size_t size) {
  auto* cuda_engine = dynamic_cast<sctdiff::cuda::CudaEngine*>(static_cast<sctdiff::Engine*>(engine));
  if (cuda_engine == nullptr) {
    write_text(info, size, "Expected an engine from sctdiff_cuda_create_engine but received NULL or another engine");
    return SCTDIFF_CUDA_BAD_ARGUMENT;
  }
  write_text(info, size, stats_json(cuda_engine->backend()));
  return SCTDIFF_CUDA_OK;
}

int sctdiff_cuda_create_batch_engine(const char* weights_path, int device, void** engine, char* error,
                                     size_t error_size) {
  return create_with_status("the CUDA batch engine", weights_path, device, engine, error, error_size,
                            [](std::shared_ptr<const sctdiff::WeightFile> weights, const sctdiff::cuda::CudaBackendOptions& options) {
                              return static_cast<void*>(static_cast<sctdiff::BatchEngine*>(
                                  new sctdiff::cuda::CudaBatchEngine(std::move(weights), options)));
                            });
}

void sctdiff_cuda_destroy_batch_engine(void* engine) { delete static_cast<sctdiff::BatchEngine*>(engine); }

int sctdiff_cuda_batch_engine_stats(void* engine, char* info, size_t size) {
  auto* cuda_engine = dynamic_cast<sctdiff::cuda::CudaBatchEngine*>(static_cast<sctdiff::BatchEngine*>(engine));
  if (cuda_engine == nullptr) {
    write_text(info, size, "Expected an engine from sctdiff_cuda_create_batch_engine but received NULL or another engine");
    return SCTDIFF_CUDA_BAD_ARGUMENT;
  }
  write_text(info, size, stats_json(cuda_engine->backend()));
  return SCTDIFF_CUDA_OK;
}

}  // extern "C"
