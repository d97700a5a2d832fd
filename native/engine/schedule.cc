#include "schedule.h"

#include <algorithm>
#include <cmath>

namespace sctdiff {

std::vector<double> cosine_alphas_cumprod(int T, double s) {
  const double kPi = 3.14159265358979323846;
  auto f = [&](double u) {
    const double c = std::cos((u + s) / (1.0 + s) * kPi / 2.0);
    return c * c;
  };
  std::vector<double> abar(static_cast<size_t>(std::max(T, 0)));
  double product = 1.0;
  for (int i = 0; i < T; ++i) {
    const double beta = std::min(1.0 - f(static_cast<double>(i + 1) / T) / f(static_cast<double>(i) / T), 0.999);
    product *= 1.0 - beta;
    abar[static_cast<size_t>(i)] = product;
  }
  return abar;
}

}  // namespace sctdiff
