// Crop, bilinear resize and normalize on the GPU, from the uint8 pixels of the crop's region of
// each frame (packed into pinned memory by CudaBackend::preprocess and uploaded with the other
// frames of the step in one copy). The per-pixel arithmetic is the shared definition in
// native/engine/preprocess.h, compiled here with -fmad=false (CMakeLists.txt) so every step is
// one float32 rounding like the CPU build's -ffp-contract=off: the result is bit-identical to the
// CPU backend and to the PyTorch reference.
#include <cuda_runtime.h>

#include <algorithm>

#include "../engine/preprocess.h"
#include "cuda_kernels.h"
#include "cuda_launch.h"

namespace sctdiff::cuda {
namespace {

// blockIdx.y: the image; x: output pixels, which an image smaller than the launch's largest
// leaves partly idle (the batch's images are all one size in practice: search crops).
__global__ void preprocess_kernel(const PreprocessArgs* args) {
  const PreprocessArgs a = args[blockIdx.y];
  const int size = a.output_size;
  const int index = blockIdx.x * blockDim.x + threadIdx.x;
  if (index >= size * size) return;
  const int ox = index % size, oy = index / size;
  FrameView frame;
  frame.data = a.pixels;
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
    a.out[c * plane + index] = preprocess_pixel(frame, crop, tx, ty, c, a.mean[c], a.std[c]);
  }
}

}  // namespace

void launch_preprocess(const PreprocessArgs* args_device, int count, int max_output_size, cudaStream_t stream) {
  const int total = max_output_size * max_output_size;
  if (total <= 0 || count <= 0) return;
  constexpr int kMaxGridY = 65535;
  for (int first = 0; first < count; first += kMaxGridY) {
    const dim3 grid(blocks_for(total, 256), static_cast<unsigned>(std::min(kMaxGridY, count - first)));
    preprocess_kernel<<<grid, 256, 0, stream>>>(args_device + first);
    check_launch("preprocess_kernel");
  }
}

}  // namespace sctdiff::cuda
