// The CPU backend: host memory, ops multithreaded over a ThreadPool, GEMMs by Eigen running
// single-threaded inside each of the pool's tiles (see docs/performance.md for why).
#pragma once

#include <memory>
#include <vector>

#include "../engine/backend.h"
#include "host_allocator.h"
#include "thread_pool.h"

namespace sctdiff {

class CpuBackend final : public Backend {
 public:
  // `threads` <= 0 means one per hardware thread.
  explicit CpuBackend(int threads);

  std::string name() const override { return "cpu"; }
  int threads() const { return pool_.size(); }

  void* allocate(size_t bytes) override;
  void release(void* ptr) override;
  void upload(void* dst, const void* host_src, size_t bytes) override;
  void download(void* host_dst, const void* src, size_t bytes) override;
  void copy(void* dst, const void* src, size_t bytes) override;
  void copy_blocks(const BlockCopyParams& p) override;
  void synchronize() override {}
  // Host memory is one space for every CPU engine: their weights are shared.
  WeightPlacement weight_placement() const override { return {"host", host_allocator()}; }

  void gemm(const GemmParams& p) override;
  void layer_norm(const LayerNormParams& p) override;
  void rms_norm(const RmsNormParams& p) override;
  void attention(const AttentionParams& p) override;
  void patchify(const PatchifyParams& p) override;
  void add_rows(const AddRowsParams& p) override;
  void timestep_embed(const TimestepEmbedParams& p) override;
  void trajectory_input(const TrajectoryInputParams& p) override;
  void causal_conv1d_silu(const CausalConv1dParams& p) override;
  void selective_scan(const SelectiveScanParams& p) override;
  void top1(const Top1Params& p) override;
  void preprocess(const PreprocessParams& p) override;

 private:
  // Per-worker scratch of at least `count` floats (grown on demand, kept between ops).
  float* scratch(int worker, size_t count);
  // Splits [0, total) into about `parts` chunks whose sizes are multiples of `align`.
  static int chunk_size(int total, int parts, int align);

  ThreadPool pool_;
  std::vector<std::vector<float>> scratch_;
};

}  // namespace sctdiff
