#include "mamba.h"

#include <stdexcept>

#include "device_weights.h"

namespace sctdiff {

BiMambaWeights BiMambaWeights::load(const DeviceWeights& weights, const std::string& prefix,
                                    const std::string& norm_name) {
  BiMambaWeights w;
  w.norm = weights.get(norm_name);
  w.in_proj = weights.get(prefix + ".in_proj.weight");
  w.out_proj = weights.get(prefix + ".out_proj.weight");
  auto load_direction = [&](const std::string& suffix, const std::string& a_name, const std::string& d_name) {
    Direction dir;
    dir.conv_weight = weights.get(prefix + ".conv1d" + suffix + ".weight");
    dir.conv_bias = weights.get(prefix + ".conv1d" + suffix + ".bias");
    dir.x_proj = weights.get(prefix + ".x_proj" + suffix + ".weight");
    dir.dt_proj = weights.get(prefix + ".dt_proj" + suffix + ".weight");
    dir.dt_bias = weights.get(prefix + ".dt_proj" + suffix + ".bias");
    dir.a = weights.get(prefix + "." + a_name);
    dir.d = weights.get(prefix + "." + d_name);
    return dir;
  };
  w.forward = load_direction("", "A", "D");
  w.backward = load_direction("_b", "A_b", "D_b");
  return w;
}

BiMambaRunner::BiMambaRunner(Backend* backend, const DecoderConfig& config, int max_rows)
    : backend_(backend), config_(config), inner_(config.expand * config.dim) {
  reserve(max_rows);
}

void BiMambaRunner::reserve(int rows) {
  if (rows <= max_rows_) return;
  const size_t L = static_cast<size_t>(rows), E = static_cast<size_t>(inner_);
  normed_ = DeviceArray<float>(backend_, L * static_cast<size_t>(config_.dim));
  xz_ = DeviceArray<float>(backend_, L * 2 * E);
  conv_ = DeviceArray<float>(backend_, L * E);
  dbc_ = DeviceArray<float>(backend_, L * static_cast<size_t>(config_.dt_rank + 2 * config_.d_state));
  delta_ = DeviceArray<float>(backend_, L * E);
  y_ = DeviceArray<float>(backend_, L * E);
  max_rows_ = rows;
}

void BiMambaRunner::direction(const BiMambaWeights::Direction& w, int rows, int sequences, bool reverse) {
  const int E = inner_, R = config_.dt_rank, Ns = config_.d_state;
  const int64_t ld_dbc = R + 2 * Ns;
  const int seq = rows / sequences;  // the scratch rows hold the sequences back to back

  CausalConv1dParams conv;
  conv.seq = seq;
  conv.sequences = sequences;
  conv.sequence_stride = seq;
  conv.channels = E;
  conv.width = config_.d_conv;
  conv.x = xz_.data();
  conv.ldx = 2 * E;
  conv.weight = w.conv_weight;
  conv.bias = w.conv_bias;
  conv.out = conv_.data();
  conv.ldout = E;
  conv.reverse = reverse;
  backend_->causal_conv1d_silu(conv);

  GemmParams x_proj;
  x_proj.n = static_cast<int>(ld_dbc);
  x_proj.k = E;
  x_proj.a = conv_.data();
  x_proj.a_layout = RowLayout::contiguous(rows, E);
  x_proj.w = w.x_proj;
  x_proj.ldw = E;
  x_proj.c = dbc_.data();
  x_proj.c_layout = RowLayout::contiguous(rows, ld_dbc);
  backend_->gemm(x_proj);

  // delta = softplus(dt · dt_projᵀ + dt_bias): the bias sits inside the softplus.
  GemmParams dt_proj;
  dt_proj.n = E;
  dt_proj.k = R;
  dt_proj.a = dbc_.data();
  dt_proj.a_layout = RowLayout::contiguous(rows, ld_dbc);
  dt_proj.w = w.dt_proj;
  dt_proj.ldw = R;
  dt_proj.bias = w.dt_bias;
  dt_proj.act = Activation::kSoftplus;
  dt_proj.c = delta_.data();
  dt_proj.c_layout = RowLayout::contiguous(rows, E);
  backend_->gemm(dt_proj);

  SelectiveScanParams scan;
  scan.seq = seq;
  scan.sequences = sequences;
  scan.sequence_stride = seq;
  scan.channels = E;
  scan.state = Ns;
  scan.u = conv_.data();
  scan.ldu = E;
  scan.delta = delta_.data();
  scan.ld_delta = E;
  scan.a = w.a;
  scan.b = dbc_.data() + R;
  scan.c = dbc_.data() + R + Ns;
  scan.ld_bc = ld_dbc;
  scan.d = w.d;
  scan.z = xz_.data() + E;
  scan.ldz = 2 * E;
  scan.out = y_.data();
  scan.ldout = E;
  scan.reverse = reverse;
  // The backward direction adds onto the forward result: y = y_fwd + reverse(y_bwd).
  scan.accumulate = reverse;
  backend_->selective_scan(scan);
}

void BiMambaRunner::run(const BiMambaWeights& w, float* stream, const RowLayout& layout, int sequences) {
  const int seq = layout.total_rows();  // all sequences' rows
  if (seq > max_rows_) throw std::logic_error("BiMamba sequence longer than its scratch memory");
  if (sequences < 1 || seq % sequences != 0) throw std::logic_error("BiMamba rows not divisible into equal sequences");
  const int d = config_.dim, E = inner_;
  const RowLayout dense = RowLayout::contiguous(seq, d);
  const RowLayout dense_rows{layout.batch, layout.rows, d, static_cast<int64_t>(layout.rows) * d};

  RmsNormParams norm;
  norm.dim = d;
  norm.x = stream;
  norm.x_layout = layout;
  norm.weight = w.norm;
  norm.eps = config_.rms_eps;
  norm.out = normed_.data();
  norm.out_layout = dense_rows;
  backend_->rms_norm(norm);

  GemmParams in_proj;
  in_proj.n = 2 * E;
  in_proj.k = d;
  in_proj.a = normed_.data();
  in_proj.a_layout = dense;
  in_proj.w = w.in_proj;
  in_proj.ldw = d;
  in_proj.c = xz_.data();
  in_proj.c_layout = RowLayout::contiguous(seq, 2 * E);
  backend_->gemm(in_proj);

  direction(w.forward, seq, sequences, false);
  direction(w.backward, seq, sequences, true);

  // stream += out_proj(y) / 2, written back through the caller's layout.
  GemmParams out_proj;
  out_proj.n = d;
  out_proj.k = E;
  out_proj.a = y_.data();
  out_proj.a_layout = RowLayout{layout.batch, layout.rows, E, static_cast<int64_t>(layout.rows) * E};
  out_proj.w = w.out_proj;
  out_proj.ldw = E;
  out_proj.c = stream;
  out_proj.c_layout = layout;
  out_proj.alpha = 0.5f;
  out_proj.beta = 1.0f;
  backend_->gemm(out_proj);
}

}  // namespace sctdiff
