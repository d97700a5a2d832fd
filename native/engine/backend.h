// The compute interface the network's forward pass is written against (native/engine/network.cc
// and friends). A backend owns memory (host memory for the CPU backend, device memory for CUDA)
// and runs a small set of ops. Each op takes one params struct of sizes and pointers, in the
// style of Mamba's CUDA kernels (SSMParamsBase): the forward pass fills the struct, the backend
// launches whatever kernel fits. All float pointers in params point into memory allocated by the
// same backend; all tensors are float32, row-major, with explicit leading dimensions (elements).
//
// Ops may run asynchronously (a CUDA stream); `download` and `synchronize` are the only points
// where the host waits. The CPU backend runs each op to completion before returning.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "device_allocator.h"
#include "engine.h"

namespace sctdiff {

// A set of rows of a row-major matrix: `batch` groups of `rows` rows; row r of group b starts at
// `b * batch_stride + r * ld` elements from the base pointer. One contiguous [R, C] matrix is
// {1, R, C, 0}. Lets ops read and write, e.g., the visual rows of an interleaved [V_1 S_1 V_2 S_2
// ...] buffer without copies (the same shape as a strided-batched cuBLAS call).
struct RowLayout {
  int batch = 1;
  int rows = 0;
  int64_t ld = 0;
  int64_t batch_stride = 0;

  static RowLayout contiguous(int rows, int64_t ld) { return RowLayout{1, rows, ld, 0}; }
  int total_rows() const { return batch * rows; }
  int64_t offset(int b, int r) const { return b * batch_stride + static_cast<int64_t>(r) * ld; }
};

enum class Activation { kNone, kGelu, kSilu, kSoftplus };

// C = beta * C + alpha * act(A · Wᵀ + bias), per batch group.
// A rows follow `a_layout` (m = a_layout.rows, batch = a_layout.batch), W is [n, k] row-major
// with leading dimension ldw (the PyTorch nn.Linear layout), bias is [n] or null, C rows follow
// `c_layout` (same batch and rows as A). beta is 0 (overwrite) or 1 (accumulate, the residual
// connections).
struct GemmParams {
  int n = 0, k = 0;
  const float* a = nullptr;
  RowLayout a_layout;
  const float* w = nullptr;
  int64_t ldw = 0;
  const float* bias = nullptr;
  float* c = nullptr;
  RowLayout c_layout;
  float alpha = 1.0f, beta = 0.0f;
  Activation act = Activation::kNone;
};

// out = (x - mean) / sqrt(var + eps) * weight + bias over the last `dim` elements of each row.
struct LayerNormParams {
  int dim = 0;
  const float* x = nullptr;
  RowLayout x_layout;
  const float* weight = nullptr;
  const float* bias = nullptr;
  float eps = 1e-6f;
  float* out = nullptr;
  RowLayout out_layout;  // same total rows as x_layout (row i of x goes to row i of out)
};

// out = x * rsqrt(mean(x²) + eps) * weight per row.
struct RmsNormParams {
  int dim = 0;
  const float* x = nullptr;
  RowLayout x_layout;
  const float* weight = nullptr;
  float eps = 1e-5f;
  float* out = nullptr;
  RowLayout out_layout;  // same total rows as x_layout
};

// Full multi-head self-attention over `batch` independent sequences of `seq` tokens.
// qkv rows are [q (heads·head_dim) | k | v], head h using columns h·head_dim.. of each part;
// out[b·seq + i, h·head_dim + j] = softmax(q kᵀ · scale) v.
struct AttentionParams {
  int batch = 0, seq = 0, heads = 0, head_dim = 0;
  const float* qkv = nullptr;  // [batch·seq, 3·heads·head_dim]
  float* out = nullptr;        // [batch·seq, heads·head_dim]
  float scale = 1.0f;
};

// Non-overlapping patches (kernel = stride = patch) as rows for a GEMM with the conv weight.
// Input: `batch` images, channels-first [C, H, W] (the encoder's crops) or channels-last
// [H, W, C] (the encoder's features). Output row (b, py, px) raster order; columns ordered
// (c, ky, kx) for channels-first input and (ky, kx, c) for channels-last input (the weight is
// permuted to match at load time). `batch_offsets` (host array of `batch` element offsets from
// `in`) lets the decoder gather feature slots in window order.
struct PatchifyParams {
  int batch = 0, channels = 0, height = 0, width = 0, patch = 1;
  bool channels_last = false;
  const float* in = nullptr;
  const int64_t* batch_offsets = nullptr;  // host memory; null = batch b at b·C·H·W
  float* out = nullptr;                    // [batch·(H/P)·(W/P), C·P·P]
};

// Adds rows of a table to rows of `out`: out[b, r, :] += table[r · table_ld + :] (table_ld = 0
// broadcasts one row), optionally also + per_batch[b' · per_batch_ld] (one row per batch group,
// e.g. the temporal embedding of frame b), where b' = b, or b mod per_batch_period when that is
// positive (several windows in one op: frame b is frame b mod frames of its window). `dim`
// columns.
struct AddRowsParams {
  int dim = 0;
  const float* table = nullptr;
  int64_t table_ld = 0;
  const float* per_batch = nullptr;  // optional [batch, dim] with leading dimension per_batch_ld
  int64_t per_batch_ld = 0;
  int per_batch_period = 0;  // > 0: group b uses per_batch row b % per_batch_period
  float* out = nullptr;
  RowLayout out_layout;
  bool overwrite = false;  // true: out = table[r] (+ per_batch[b]) instead of +=
};

// Sinusoidal timestep embedding: out[i] = [cos(t_i · f_k), sin(t_i · f_k)], f_k = exp(-ln(10000)
// · k / half), half = dim / 2.
struct TimestepEmbedParams {
  int count = 0, dim = 0;
  const int32_t* timesteps = nullptr;  // backend memory, [count]
  float* out = nullptr;                // [count, dim]
};

// The decoder's trajectory input for `windows` windows of `frames` frames of 6 slots [Begin,
// x1, y1, x2, y2, End]. Frame g = w·frames + f (frame f of window w): e = table[token]; coordinate
// slots get x = signal[g]·e + noise[g]·eps(seeds[w], f, slot, c); out = x + pos1d[slot] +
// temporal[f] + time_emb[g]. One op for a whole batch of windows, each with its own seed.
struct TrajectoryInputParams {
  int windows = 1, frames = 0, dim = 0;
  const int32_t* tokens = nullptr;  // backend memory, [windows·frames, 6]
  const float* table = nullptr;     // [vocab, dim]
  const float* signal = nullptr;    // backend memory, [windows·frames]: sqrt(abar(t_g))
  const float* noise = nullptr;     // backend memory, [windows·frames]: sqrt(1 - abar(t_g))
  const uint64_t* seeds = nullptr;  // host memory of the caller, [windows]
  const float* pos1d = nullptr;     // [6, dim]
  const float* temporal = nullptr;  // [>= frames, dim]
  const float* time_emb = nullptr;  // [windows·frames, dim]
  float* out = nullptr;
  RowLayout out_layout;  // batch = windows·frames, rows = 6
};

// Causal depthwise conv1d (kernel `width`, left zero padding) + bias + SiLU along a sequence of
// `seq` rows with `channels` columns. `reverse` runs over the reversed sequence and writes each
// result back at its original position (the backward direction of a bidirectional Mamba).
// `sequences` independent sequences (a batch of streams' decoder windows): sequence s is rows
// [s·sequence_stride, s·sequence_stride + seq) of x and out; the padding restarts at each
// sequence's start (and, reversed, at its end), so no sequence sees another's rows.
struct CausalConv1dParams {
  int seq = 0, channels = 0, width = 4;
  int sequences = 1;
  int64_t sequence_stride = 0;  // rows between sequence starts (>= seq when sequences > 1)
  const float* x = nullptr;
  int64_t ldx = 0;
  const float* weight = nullptr;  // [channels, width]
  const float* bias = nullptr;    // [channels]
  float* out = nullptr;
  int64_t ldout = 0;
  bool reverse = false;
};

// Mamba's selective scan with delta already softplus'ed (the dt_proj GEMM's epilogue):
//   h_l = exp(delta_l · A) h_{l-1} + delta_l · B_l · u_l,  y_l = (C_l · h_l + D · u_l) · SiLU(z_l)
// over `seq` steps (reversed order if `reverse`, results stored at original positions);
// `accumulate` adds y into `out` instead of overwriting it. `sequences` independent recurrences
// (a batch of streams' decoder windows): sequence s is rows [s·sequence_stride, s·sequence_stride
// + seq) of u, delta, b, c, z and out, and its state h starts from zero.
struct SelectiveScanParams {
  int seq = 0, channels = 0, state = 0;
  int sequences = 1;
  int64_t sequence_stride = 0;  // rows between sequence starts (>= seq when sequences > 1)
  const float* u = nullptr;
  int64_t ldu = 0;
  const float* delta = nullptr;
  int64_t ld_delta = 0;
  const float* a = nullptr;  // [channels, state], A = -exp(A_log)
  const float* b = nullptr;  // row l at b + l·ld_bc, `state` values
  const float* c = nullptr;  // row l at c + l·ld_bc
  int64_t ld_bc = 0;
  const float* d = nullptr;  // [channels]
  const float* z = nullptr;
  int64_t ldz = 0;
  float* out = nullptr;
  int64_t ldout = 0;
  bool reverse = false;
  bool accumulate = false;
};

// Copies `count` blocks of `elements` floats: block i from sources[i] to destinations[i] (each
// block contiguous; blocks must not overlap one another). The address arrays are host memory of
// the caller holding backend-memory addresses. Batching gathers each stream's templates into the
// encoder's token rows and scatters the features into each stream's slots this way: one op
// instead of one copy per block, and (on CUDA) the addresses travel through device memory, so a
// batched step whose blocks sit at different places from call to call still replays one graph.
struct BlockCopyParams {
  int count = 0;
  int64_t elements = 0;
  const float* const* sources = nullptr;  // host array of `count` addresses
  float* const* destinations = nullptr;   // host array of `count` addresses
};

// Per row: token = argmax (ties -> lowest index), score = softmax probability of that token.
struct Top1Params {
  int vocab = 0;
  const float* logits = nullptr;
  RowLayout layout;
  int32_t* tokens = nullptr;  // backend memory, [total rows]
  float* scores = nullptr;    // backend memory, [total rows]
};

// One crop of a host frame: [x0, x0 + side)² of the frame (zero outside), bilinear resize to
// size² with half-pixel centres (OpenCV INTER_LINEAR on a float image, docs/model.md), RGB,
// (v/255 - mean)/std, channels-first [3, size, size] into `out` (backend memory).
struct PreprocessImage {
  FrameView frame;  // host memory
  CropParams crop;
  float* out = nullptr;
};

// Every image of one call is independent (they may differ in frame, format and crop size): a
// batched encode hands over all its frames at once so that a device backend uploads their pixels
// together and runs one launch for all of them.
struct PreprocessParams {
  int count = 0;
  const PreprocessImage* images = nullptr;  // host array of `count`
  float mean[3] = {0, 0, 0};
  float std[3] = {1, 1, 1};
};

// A backend is the allocator of its engine's activations (DeviceAllocator: allocate, release,
// upload, download) plus the ops.
class Backend : public DeviceAllocator {
 public:
  ~Backend() override = default;
  virtual std::string name() const = 0;

  virtual void copy(void* dst, const void* src, size_t bytes) = 0;
  virtual void copy_blocks(const BlockCopyParams& p) = 0;
  virtual void synchronize() = 0;

  // Where the engine's weights go so engines of the same model can share them (weight_cache.h).
  // The default keeps them private to the engine, allocated from this backend.
  virtual WeightPlacement weight_placement() const { return {}; }

  virtual void gemm(const GemmParams& p) = 0;
  virtual void layer_norm(const LayerNormParams& p) = 0;
  virtual void rms_norm(const RmsNormParams& p) = 0;
  virtual void attention(const AttentionParams& p) = 0;
  virtual void patchify(const PatchifyParams& p) = 0;
  virtual void add_rows(const AddRowsParams& p) = 0;
  virtual void timestep_embed(const TimestepEmbedParams& p) = 0;
  virtual void trajectory_input(const TrajectoryInputParams& p) = 0;
  virtual void causal_conv1d_silu(const CausalConv1dParams& p) = 0;
  virtual void selective_scan(const SelectiveScanParams& p) = 0;
  virtual void top1(const Top1Params& p) = 0;
  virtual void preprocess(const PreprocessParams& p) = 0;
};

}  // namespace sctdiff
