// The cosine noise schedule (docs/model-contract.md, "Schedule"), in float64 like the
// reference: the engine turns a timestep into the noising coefficients itself.
#pragma once

#include <vector>

namespace sctdiff {

// abar(t) = prod_{i <= t} (1 - beta_i) for t = 0 .. T-1, DiffuSeq's betas_for_alpha_bar with
// f(u) = cos^2((u + s)/(1 + s) * pi/2) and beta_i = min(1 - f((i+1)/T)/f(i/T), 0.999).
std::vector<double> cosine_alphas_cumprod(int T, double s);

}  // namespace sctdiff
