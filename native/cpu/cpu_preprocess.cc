#include <algorithm>
#include <vector>

#include "../engine/preprocess.h"
#include "cpu_backend.h"

namespace sctdiff {
namespace {

// One image, its output rows split over the pool when the image is large enough to pay for it.
void preprocess_image(ThreadPool& pool, const PreprocessImage& image, const float* mean, const float* std) {
  const int size = image.crop.output_size;
  std::vector<ResizeTap> taps(static_cast<size_t>(size));
  // The crop is square and both axes share side and size, so one tap table serves x and y.
  for (int o = 0; o < size; ++o) taps[static_cast<size_t>(o)] = resize_tap(o, image.crop.side, size);
  const int64_t plane = static_cast<int64_t>(size) * size;
  const int tasks = size * size < 20000 ? 1 : pool.size();
  const int per_task = (size + tasks - 1) / tasks;
  pool.parallel_for(tasks, [&](int task, int) {
    const int y1 = std::min(size, (task + 1) * per_task);
    for (int oy = task * per_task; oy < y1; ++oy) {
      const ResizeTap& ty = taps[static_cast<size_t>(oy)];
      for (int ox = 0; ox < size; ++ox) {
        const ResizeTap& tx = taps[static_cast<size_t>(ox)];
        for (int c = 0; c < 3; ++c) {
          image.out[c * plane + static_cast<int64_t>(oy) * size + ox] =
              preprocess_pixel(image.frame, image.crop, tx, ty, c, mean[c], std[c]);
        }
      }
    }
  });
}

}  // namespace

void CpuBackend::preprocess(const PreprocessParams& p) {
  for (int i = 0; i < p.count; ++i) preprocess_image(pool_, p.images[i], p.mean, p.std);
}

}  // namespace sctdiff
