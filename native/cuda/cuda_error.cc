#include "cuda_error.h"

namespace sctdiff::cuda {

std::string describe_cuda_status(cudaError_t status) {
  std::string text = std::string(cudaGetErrorName(status)) + " (" + cudaGetErrorString(status) + ")";
  switch (status) {
    case cudaErrorNoDevice:
      return text + ". Possible fixes: run on a machine with an NVIDIA GPU, check that CUDA_VISIBLE_DEVICES "
                    "does not hide it, or use device: 'cpu'";
    case cudaErrorInsufficientDriver:
      return text + ". Possible fixes: install an NVIDIA driver that supports CUDA 13 (580 or newer), or use "
                    "device: 'cpu'";
    case cudaErrorNoKernelImageForDevice:
      return text + ". Possible fixes: rebuild native/cuda with -DSCTDIFF_CUDA_ARCHITECTURES including this "
                    "GPU's compute capability (see native/cuda/README.md), or use device: 'cpu'";
    default:
      return text;
  }
}

void check_cuda(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  // Clear the sticky per-thread error state where it is not sticky, so later calls report their own.
  (void)cudaGetLastError();
  const std::string message = std::string(what) + " failed: " + describe_cuda_status(status);
  if (status == cudaErrorNoDevice || status == cudaErrorInsufficientDriver) throw CudaUnavailableError(message);
  throw CudaError(message);
}

}  // namespace sctdiff::cuda
