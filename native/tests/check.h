// Minimal assertion helpers for the C++ test programs: every failed check is printed and
// counted; main() returns the number of failures (0 = pass).
#pragma once

#include <cmath>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sctdiff::testing {

inline int& failures() {
  static int count = 0;
  return count;
}

inline void check(bool ok, const std::string& what) {
  if (!ok) {
    ++failures();
    std::printf("FAIL %s\n", what.c_str());
  }
}

// ||a - b|| / max(||b||, tiny), in double.
inline double relative_l2(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    diff += d * d;
    norm += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

// `call` must throw std::invalid_argument with exactly `message`.
inline void expect_invalid(const std::function<void()>& call, const std::string& message) {
  try {
    call();
    check(false, "no error, expected: " + message);
  } catch (const std::invalid_argument& e) {
    check(std::string(e.what()) == message, std::string("message \"") + e.what() + "\" != \"" + message + "\"");
  }
}

}  // namespace sctdiff::testing
