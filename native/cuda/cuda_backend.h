// The CUDA backend: device memory, one stream, kernels of native/cuda/*.cu, GEMMs through
// cuBLASLt (loaded at run time), and steps recorded and replayed as CUDA graphs.
//
// Graphs behind the plain Backend interface: in graph mode every op is *recorded* (its launch as
// a closure, its parameters as bytes of a key) instead of launched. At the next point where the
// host must wait (download, synchronize, release) the pending ops are flushed: if the same
// sequence of ops with the same parameters and pointers has run before, its instantiated graph is
// replayed with one cudaGraphLaunch; on its second sighting it is captured; a sequence seen once
// runs eagerly (so one-off sequences such as weight loading never cost a capture). Small host
// inputs (tokens, timesteps) are copied into a pinned arena at record time and the graph's memcpy
// nodes read them from there, at offsets that repeat from step to step. Frames are packed into a
// pinned area and go up together in one eager copy at the flush, ahead of the graph; the
// preprocess kernel reads each frame's address and geometry from device memory, so frames of any
// size replay the same graph.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../engine/backend.h"
#include "cublaslt_api.h"

namespace sctdiff::cuda {

// How GEMMs compute. kBf16: activations and weights rounded to bf16, fp32 accumulation and
// output (the target precision); kTf32: fp32 in and out, TF32 tensor cores; kFp32: exact fp32
// (cuBLASLt pedantic-free 32F), for parity checks.
enum class GemmPrecision { kBf16, kTf32, kFp32 };

struct CudaBackendOptions {
  int device = 0;
  GemmPrecision precision = GemmPrecision::kBf16;
  // Record steps and replay them as CUDA graphs (false: every op launches immediately).
  bool graphs = true;
  // Where cuBLASLt cannot be loaded, run GEMMs on our own fp32 CUDA-core kernel instead of
  // failing (slow; for tests and for hosts without cuBLAS).
  bool allow_simt_gemm = false;
  // Force the CUDA-core GEMM even where cuBLASLt exists (tests).
  bool force_simt_gemm = false;
  // Attention on bf16 tensor cores (sm_80+, head_dim 32/64/128) instead of fp32 CUDA cores.
  // Off until the consistency program has passed on a GPU (native/cuda/NOTES.md).
  bool attention_mma = false;
};

// Options with the environment's overrides applied: SCTDIFF_CUDA_DEVICE (int),
// SCTDIFF_CUDA_GEMM (bf16 | tf32 | fp32 | simt), SCTDIFF_CUDA_GRAPHS (0 | 1). Throws
// std::invalid_argument on a value it does not know.
CudaBackendOptions options_from_environment(CudaBackendOptions defaults);

// Where the time went, for tests and the benchmark.
struct CudaBackendStats {
  int64_t flushes = 0;         // pending sequences executed
  int64_t graph_launches = 0;  // replays of an instantiated graph (captures included)
  int64_t graph_captures = 0;  // sequences captured and instantiated
  int64_t eager_ops = 0;       // ops launched directly
  int64_t frames = 0;          // images preprocessed
  int64_t frame_uploads = 0;   // host-to-device copies of their pixels (one per flush that has any)
};

class CudaBackend final : public Backend {
 public:
  // Throws CudaUnavailableError when there is no usable device or (without allow_simt_gemm)
  // no cuBLASLt, with possible fixes in the message.
  explicit CudaBackend(const CudaBackendOptions& options);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return "cuda"; }

  void* allocate(size_t bytes) override;
  void release(void* ptr) override;
  void upload(void* dst, const void* host_src, size_t bytes) override;
  void download(void* host_dst, const void* src, size_t bytes) override;
  void copy(void* dst, const void* src, size_t bytes) override;
  void copy_blocks(const BlockCopyParams& p) override;
  void synchronize() override;
  // Engines on the same device share their weights, in memory of a CudaWeightAllocator.
  WeightPlacement weight_placement() const override;

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

  // The NVTX range ("encoder", "decoder", ...) that the following ops belong to; eager launches
  // and graph captures are wrapped in it. Null: no range.
  void set_phase(const char* phase) { phase_ = phase; }
  const CudaBackendStats& stats() const { return stats_; }
  const CudaBackendOptions& options() const { return options_; }
  // "cublasLt <version>, bf16" or "simt fp32": what runs the GEMMs.
  std::string gemm_description() const;
  cudaStream_t stream() const { return stream_; }
  // Makes this backend's device current on the calling thread (the CUDA runtime's current
  // device is per thread, and engines are created on one thread and used on another).
  void make_current() const;

 private:
  using Launch = std::function<void(cudaStream_t)>;
  struct PendingOp {
    Launch launch;
    const char* phase;
  };
  struct GraphEntry {
    int sightings = 0;
    cudaGraphExec_t exec = nullptr;
  };
  struct WeightCopy {  // a weight matrix converted to bf16 once
    int n = 0, k = 0;
    int64_t ldw = 0;
    uint16_t* data = nullptr;
  };
  // A grow-only device or pinned buffer; growing first flushes and waits.
  struct Buffer {
    void* data = nullptr;
    size_t bytes = 0;
  };

  // Records (graph mode) or launches the op. `key` must capture every parameter the launch
  // depends on, pointers included.
  void submit(std::string key, Launch launch);
  // Runs the pending ops: replay, capture or eager (see the class comment).
  void flush();
  void run_eager(std::vector<PendingOp>& ops);
  // Waits for all work and makes the staging areas reusable.
  void drain();
  // Copies the frame regions packed since the last call to the device, as one eager copy.
  void upload_pending_frames();

  // Copies a few bytes of per-call parameters (a seed, frame geometry, feature pointers) into
  // device memory as a recorded upload and returns where they will be. Kernels that read their
  // parameters from there replay in a graph even though the values change every step.
  void* stage_parameters(const void* host, size_t bytes);
  void ensure_device_buffer(Buffer& buffer, size_t bytes);
  void ensure_pinned_buffer(Buffer& buffer, size_t bytes);
  void invalidate_weight_copies(const void* begin, size_t bytes);
  const uint16_t* weight_bf16(const float* w, int n, int k, int64_t ldw);
  void gemm_cublaslt(const GemmParams& p);
  void free_graphs();

  CudaBackendOptions options_;
  int compute_major_ = 0;
  cudaStream_t stream_ = nullptr;
  const lt::Api* lt_ = nullptr;
  lt::Handle lt_handle_ = nullptr;
  Buffer lt_workspace_;

  std::map<const void*, size_t> allocations_;
  std::map<const float*, WeightCopy> weight_copies_;
  Buffer a_bf16_, gemm_tmp_;

  std::vector<PendingOp> pending_;
  std::string pending_key_;
  std::unordered_map<std::string, GraphEntry> graphs_;
  const char* phase_ = nullptr;

  // Pinned staging of small recorded uploads; offsets restart after each drain().
  Buffer upload_arena_;
  size_t upload_offset_ = 0;
  // Frames: the covered region of each preprocessed frame, packed into a pinned area and copied to
  // the same offsets of a device area, [frame_uploaded_, frame_offset_) at the next flush. Both
  // offsets restart after each drain().
  Buffer frame_pinned_, frame_device_;
  size_t frame_offset_ = 0, frame_uploaded_ = 0;
  // Device memory for stage_parameters; offsets restart after each drain().
  Buffer device_parameters_;
  size_t parameter_offset_ = 0;
  uint64_t drains_ = 0;  // drain() calls, to check that no staging restarts mid-call

  CudaBackendStats stats_;
};

}  // namespace sctdiff::cuda
