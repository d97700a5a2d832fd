// Crop, bilinear resize and normalize on the GPU, from the uint8 pixels of the crop's region of
// the frame (uploaded once through pinned memory by CudaBackend::preprocess). The per-pixel
// arithmetic is the shared definition in native/engine/preprocess.h, compiled here with
// -fmad=false (CMakeLists.txt) so every step is one float32 rounding like the CPU build's
// -ffp-contract=off: the result is bit-identical to the CPU backend and to the PyTorch reference.
#include <cuda_runtime.h>

#include "../engine/preprocess.h"
#include "cuda_kernels.h"
#include "cuda_launch.h"

namespace sctdiff::cuda {
namespace {

__global__ void preprocess_kernel(const PreprocessArgs* args, const uint8_t* pixels, float* out) {
  const PreprocessArgs a = *args;
  const int size = a.output_size;
  const int index = blockIdx.x * blockDim.x + threadIdx.x;
  if (index >= size * size) return;
  const int ox = index % size, oy = index / size;
  FrameView frame;
  frame.data = pixels;
  frame.width = a.width;
  frame.height = a.height;
  frame.stride = a.stride;
  frame.format = static_cast<PixelFormat>(a.format);
  CropParams crop;
  crop.x0 = a.x0;
  crop.y0 = a.y0;
  crop.side = a.side;
  crop.output_size = size;
  const ResizeTap tx = resize_tap(ox, a.side, size);
  const ResizeTap ty = resize_tap(oy, a.side, size);
  const int64_t plane = static_cast<int64_t>(size) * size;
#pragma unroll
  for (int c = 0; c < 3; ++c) {
    out[c * plane + index] = preprocess_pixel(frame, crop, tx, ty, c, a.mean[c], a.std[c]);
  }
}

}  // namespace

void launch_preprocess(const PreprocessArgs* args_device, const uint8_t* pixels_device, int output_size, float* out,
                       cudaStream_t stream) {
  const int total = output_size * output_size;
  if (total <= 0) return;
  preprocess_kernel<<<blocks_for(total, 256), 256, 0, stream>>>(args_device, pixels_device, out);
  check_launch("preprocess_kernel");
}

}  // namespace sctdiff::cuda
