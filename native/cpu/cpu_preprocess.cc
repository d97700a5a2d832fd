#include <algorithm>
#include <vector>

#include "../engine/preprocess.h"
#include "cpu_backend.h"

namespace sctdiff {

void CpuBackend::preprocess(const PreprocessParams& p) {
  const int size = p.crop.output_size;
  std::vector<ResizeTap> taps_x(static_cast<size_t>(size)), taps_y(static_cast<size_t>(size));
  for (int o = 0; o < size; ++o) {
    taps_x[static_cast<size_t>(o)] = resize_tap(o, p.crop.side, size);
    taps_y[static_cast<size_t>(o)] = resize_tap(o, p.crop.side, size);
  }
  const int64_t plane = static_cast<int64_t>(size) * size;
  const int tasks = size * size < 20000 ? 1 : pool_.size();
  const int per_task = (size + tasks - 1) / tasks;
  pool_.parallel_for(tasks, [&](int task, int) {
    const int y1 = std::min(size, (task + 1) * per_task);
    for (int oy = task * per_task; oy < y1; ++oy) {
      const ResizeTap& ty = taps_y[static_cast<size_t>(oy)];
      for (int ox = 0; ox < size; ++ox) {
        const ResizeTap& tx = taps_x[static_cast<size_t>(ox)];
        for (int c = 0; c < 3; ++c) {
          p.out[c * plane + static_cast<int64_t>(oy) * size + ox] =
              preprocess_pixel(p.frame, p.crop, tx, ty, c, p.mean[c], p.std[c]);
        }
      }
    }
  });
}

}  // namespace sctdiff
