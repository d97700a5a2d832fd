// Selective scan forward and backward on the CPU, float32, for training (sctdiff/scan_native.py).
//
// The Python sequential scan issues ~6 small tensor ops per time step and direction, so on a
// CPU the decoder's scans cost more than the whole bf16 encoder. Here one loop per (batch row,
// channel) keeps the d_state-wide state in registers; the inner loop over the state is what
// the compiler vectorizes (d_state = 16 floats = one AVX-512 register).
//
// Shapes (contiguous float32): u, delta, z [B, L, E]; Bm, Cm [B, L, N]; A [E, N]; D [E].
// Semantics are selective_scan_sequential's (sctdiff/scan.py):
//   h_l = exp(delta_l A) h_{l-1} + delta_l Bm_l u_l;  y_l = (C_l . h_l + D u_l) * silu(z_l)
#include <torch/extension.h>

#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

namespace {

struct ScanSizes {
  int64_t batch, length, inner, state;
};

ScanSizes sizes_of(const torch::Tensor& u, const torch::Tensor& A) {
  return {u.size(0), u.size(1), u.size(2), A.size(1)};
}

void check_inputs(const std::vector<torch::Tensor>& tensors) {
  for (const auto& t : tensors) {
    TORCH_CHECK(t.device().is_cpu(), "selective_scan_cpu expects CPU tensors");
    TORCH_CHECK(t.scalar_type() == torch::kFloat32, "selective_scan_cpu expects float32 tensors");
    TORCH_CHECK(t.is_contiguous(), "selective_scan_cpu expects contiguous tensors");
  }
}

inline float silu(float v) { return v / (1.0f + std::exp(-v)); }

// One (row, step, channel) of the reverse pass over the d_state lanes. A separate function
// with restrict-qualified rows is what lets the compiler vectorize it.
inline void backward_lanes(int64_t n_state, float gy, float dt, float x, const float* __restrict__ a_row,
                           const float* __restrict__ h, const float* __restrict__ h_prev,
                           const float* __restrict__ b_row, const float* __restrict__ c_row,
                           float* __restrict__ carry, float* __restrict__ da, float* __restrict__ db,
                           float* __restrict__ dc, float& ddt_out, float& du_out) {
  float ddt_acc = 0.0f, du_acc = 0.0f;
  for (int64_t n = 0; n < n_state; ++n) {
    dc[n] += gy * h[n];
    const float lam = gy * c_row[n] + carry[n];  // dLoss/dh_l
    const float decay = std::exp(dt * a_row[n]);
    const float d_exponent = lam * h_prev[n] * decay;  // dLoss/d(dt * A)
    ddt_acc += d_exponent * a_row[n] + lam * b_row[n] * x;
    da[n] += d_exponent * dt;
    db[n] += lam * dt * x;
    du_acc += lam * dt * b_row[n];
    carry[n] = lam * decay;
  }
  ddt_out = ddt_acc;
  du_out += du_acc;
}

}  // namespace

// Returns {y, y_pre, states}: y is the gated output, y_pre the output before the SiLU(z) gate
// and states every h_l [B, L, E, N] (the backward pass reads them instead of recomputing).
std::vector<torch::Tensor> scan_forward(torch::Tensor u, torch::Tensor delta, torch::Tensor A,
                                        torch::Tensor Bm, torch::Tensor Cm, torch::Tensor D,
                                        torch::Tensor z, bool has_z) {
  check_inputs({u, delta, A, Bm, Cm, D});
  if (has_z) check_inputs({z});
  const ScanSizes s = sizes_of(u, A);
  auto states = torch::empty({s.batch, s.length, s.inner, s.state}, u.options());
  auto y_pre = torch::empty({s.batch, s.length, s.inner}, u.options());
  auto y = has_z ? torch::empty_like(y_pre) : y_pre;
  const float *pu = u.data_ptr<float>(), *pdt = delta.data_ptr<float>(), *pa = A.data_ptr<float>();
  const float *pb = Bm.data_ptr<float>(), *pc = Cm.data_ptr<float>(), *pd = D.data_ptr<float>();
  const float* pz = has_z ? z.data_ptr<float>() : nullptr;
  float *ph = states.data_ptr<float>(), *pyp = y_pre.data_ptr<float>(), *py = y.data_ptr<float>();
  const int64_t E = s.inner, N = s.state, L = s.length;
  at::parallel_for(0, s.batch * E, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / E, e = task % E;
      const float* a_row = pa + e * N;
      const std::vector<float> zeros(static_cast<size_t>(N), 0.0f);  // h_{-1}
      for (int64_t l = 0; l < L; ++l) {
        const int64_t t = (b * L + l) * E + e;
        const float dt = pdt[t], x = pu[t];
        const float* b_row = pb + (b * L + l) * N;
        const float* c_row = pc + (b * L + l) * N;
        float* h = ph + t * N;
        const float* h_prev = l > 0 ? ph + (t - E) * N : zeros.data();
        float acc = 0.0f;
        for (int64_t n = 0; n < N; ++n) {
          const float next = std::exp(dt * a_row[n]) * h_prev[n] + dt * b_row[n] * x;
          h[n] = next;
          acc += c_row[n] * next;
        }
        const float out = acc + pd[e] * x;
        pyp[t] = out;
        if (has_z) py[t] = out * silu(pz[t]);
      }
    }
  });
  return {y, y_pre, states};
}

// Gradients {du, ddelta, dA, dBm, dCm, dD, dz} of sum(grad_y * y).
std::vector<torch::Tensor> scan_backward(torch::Tensor grad_y, torch::Tensor u, torch::Tensor delta,
                                         torch::Tensor A, torch::Tensor Bm, torch::Tensor Cm,
                                         torch::Tensor D, torch::Tensor z, bool has_z,
                                         torch::Tensor y_pre, torch::Tensor states) {
  check_inputs({grad_y, u, delta, A, Bm, Cm, D, y_pre, states});
  if (has_z) check_inputs({z});
  const ScanSizes s = sizes_of(u, A);
  const int64_t E = s.inner, N = s.state, L = s.length;
  auto du = torch::empty_like(u);
  auto ddelta = torch::empty_like(delta);
  auto dz = has_z ? torch::empty_like(z) : torch::Tensor();
  auto dBm = torch::zeros_like(Bm);
  auto dCm = torch::zeros_like(Cm);
  // Per-row partial sums of the shared parameters; summed over the batch at the end so that
  // rows can run on different threads without atomics.
  auto dA_rows = torch::zeros({s.batch, E, N}, A.options());
  auto dD_rows = torch::zeros({s.batch, E}, D.options());
  const float *pg = grad_y.data_ptr<float>(), *pu = u.data_ptr<float>(), *pdt = delta.data_ptr<float>();
  const float *pa = A.data_ptr<float>(), *pb = Bm.data_ptr<float>(), *pc = Cm.data_ptr<float>();
  const float *pd = D.data_ptr<float>(), *pz = has_z ? z.data_ptr<float>() : nullptr;
  const float *pyp = y_pre.data_ptr<float>(), *ph = states.data_ptr<float>();
  float *pdu = du.data_ptr<float>(), *pddt = ddelta.data_ptr<float>();
  float* pdz = has_z ? dz.data_ptr<float>() : nullptr;
  float *pdb = dBm.data_ptr<float>(), *pdc = dCm.data_ptr<float>();
  float *pda = dA_rows.data_ptr<float>(), *pdd = dD_rows.data_ptr<float>();
  at::parallel_for(0, s.batch, 1, [&](int64_t begin, int64_t end) {
    // carry[e, n] = dLoss/dh_{l+1} * exp(delta_{l+1} A): the adjoint flowing back through the decay.
    std::vector<float> carry(static_cast<size_t>(E * N));
    const std::vector<float> zeros(static_cast<size_t>(N), 0.0f);  // h_{-1}
    for (int64_t b = begin; b < end; ++b) {
      std::fill(carry.begin(), carry.end(), 0.0f);
      float* da_row = pda + b * E * N;
      float* dd_row = pdd + b * E;
      for (int64_t l = L - 1; l >= 0; --l) {
        const float* b_row = pb + (b * L + l) * N;
        const float* c_row = pc + (b * L + l) * N;
        float* db_row = pdb + (b * L + l) * N;
        float* dc_row = pdc + (b * L + l) * N;
        for (int64_t e = 0; e < E; ++e) {
          const int64_t t = (b * L + l) * E + e;
          float gy = pg[t];
          if (has_z) {
            const float zz = pz[t], sig = 1.0f / (1.0f + std::exp(-zz));
            pdz[t] = gy * pyp[t] * sig * (1.0f + zz * (1.0f - sig));
            gy *= zz * sig;
          }
          const float dt = pdt[t], x = pu[t];
          dd_row[e] += gy * x;
          float du_acc = gy * pd[e], ddt_acc = 0.0f;
          backward_lanes(N, gy, dt, x, pa + e * N, ph + t * N, l > 0 ? ph + (t - E) * N : zeros.data(), b_row,
                         c_row, carry.data() + e * N, da_row + e * N, db_row, dc_row, ddt_acc, du_acc);
          pddt[t] = ddt_acc;
          pdu[t] = du_acc;
        }
      }
    }
  });
  return {du, ddelta, dA_rows.sum(0), dBm, dCm, dD_rows.sum(0), dz};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &scan_forward, "selective scan forward (float32, CPU)");
  m.def("backward", &scan_backward, "selective scan backward (float32, CPU)");
}
