// Host-side launchers of the CUDA backend's kernels (one .cu file per family). Each takes the
// op's params (pointers into device memory) and the stream, launches without synchronizing and
// throws CudaError if the launch is rejected. Launchers never allocate: scratch comes from the
// caller (CudaBackend), so every launch can be captured into a CUDA graph.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "../engine/backend.h"

namespace sctdiff::cuda {

// --- Rows: norms, embeddings, top-1 (cuda_rows.cu) ---
void launch_layer_norm(const LayerNormParams& p, cudaStream_t stream);
void launch_rms_norm(const RmsNormParams& p, cudaStream_t stream);
void launch_add_rows(const AddRowsParams& p, cudaStream_t stream);
void launch_timestep_embed(const TimestepEmbedParams& p, cudaStream_t stream);
// The windows' seeds are read from device memory (`seeds`), not from p.seeds (host memory), so
// graphs replay any seeds.
void launch_trajectory_input(const TrajectoryInputParams& p, const uint64_t* seeds, cudaStream_t stream);
void launch_top1(const Top1Params& p, cudaStream_t stream);

// Patchify; image b starts at images[b] (device memory) when `images` is given, else at
// p.in + b·C·H·W. p.batch_offsets is ignored (the backend turns it into `images`).
constexpr int kMaxPatchifyImages = 256;  // >= BatchEngine::kMaxBatch windows of clip_len frames
void launch_patchify(const PatchifyParams& p, const float* const* images, cudaStream_t stream);

// --- Block copies (cuda_block_copy.cu) ---
// BlockCopyParams with its addresses in device memory: `addresses` holds `count` sources then
// `count` destinations. `vectorized`: every address 16-byte aligned and `elements` % 4 == 0.
constexpr int kMaxCopyBlocks = 256;
void launch_block_copy(int count, int64_t elements, bool vectorized, const float* const* addresses, cudaStream_t stream);

// --- Attention (cuda_attention.cu: fp32 CUDA cores; cuda_attention_mma.cu: bf16 tensor cores) ---
void launch_attention(const AttentionParams& p, cudaStream_t stream);
bool attention_mma_supported(int head_dim, int compute_major);
void launch_attention_mma(const AttentionParams& p, cudaStream_t stream);

// --- Mamba sequence ops (cuda_mamba.cu) ---
void launch_causal_conv1d_silu(const CausalConv1dParams& p, cudaStream_t stream);
void launch_selective_scan(const SelectiveScanParams& p, cudaStream_t stream);

// --- GEMM helpers (cuda_gemm_kernels.cu) ---
// out = beta·out + alpha·act(src + bias) on `n` columns of each row; src may equal out (then
// beta must be 0). Rows follow the two layouts (same batch and rows).
void launch_gemm_epilogue(const float* src, const RowLayout& src_layout, const float* bias, float* out,
                          const RowLayout& out_layout, int n, float alpha, float beta, Activation act,
                          cudaStream_t stream);
// Rows of `src` (k columns, `layout`) to dense bf16 [total_rows, k] (raw 16-bit values).
void launch_rows_to_bf16(const float* src, const RowLayout& layout, int k, uint16_t* dst, cudaStream_t stream);
// The full GemmParams contract on CUDA cores in fp32: the reference the cuBLASLt path is checked
// against, and the fallback where cuBLASLt is missing and the caller allowed it.
void launch_simt_gemm(const GemmParams& p, cudaStream_t stream);

// --- Preprocessing (cuda_preprocess.cu) ---
// What the preprocess kernel reads from device memory, so that a captured graph can replay it
// for frames of any size: the frame's cropped region was uploaded as `pixels` (rows of
// `stride` bytes), and `frame`/`crop` are rebased onto that region.
// One image of a preprocess launch, read by the kernel from device memory (so a graph replays
// whatever the frames' sizes and the crops are): the uploaded region of the frame, the crop
// rebased onto it, and where the [3, size, size] result goes.
struct PreprocessArgs {
  const uint8_t* pixels = nullptr;  // device memory
  float* out = nullptr;             // device memory
  int width = 0, height = 0, stride = 0, format = 0;  // format: PixelFormat as int
  int x0 = 0, y0 = 0, side = 1, output_size = 1;
  float mean[3] = {0, 0, 0};
  float std[3] = {1, 1, 1};
};
// `count` images in one launch; `max_output_size` bounds every image's output_size.
void launch_preprocess(const PreprocessArgs* args_device, int count, int max_output_size, cudaStream_t stream);

}  // namespace sctdiff::cuda
