#include "cuda_backend.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <stdexcept>
#include <type_traits>

#include "../engine/preprocess.h"
#include "cuda_error.h"
#include "cuda_kernels.h"
#include "cuda_weight_allocator.h"
#include "nvtx_ranges.h"

namespace sctdiff::cuda {
namespace {

// Uploads up to this size are recorded into a step (tokens, timesteps, noise scales); larger
// ones (weights) flush, then copy synchronously.
constexpr size_t kSmallUpload = 64 * 1024;
constexpr size_t kUploadArenaBytes = 1 << 20;
constexpr size_t kDeviceParameterBytes = 64 * 1024;
// The frame area grows in steps of this; each frame's region starts at a multiple of kFrameAlignment.
constexpr size_t kFrameAreaGranularity = 1 << 20;
constexpr size_t kFrameAlignment = 256;
constexpr size_t kLtWorkspaceBytes = 32u << 20;
// Sequences shorter than this are not worth a graph (e.g. a lone download's bookkeeping).
constexpr size_t kMinGraphOps = 4;
// Distinct step shapes kept instantiated; beyond this every graph is dropped and re-learned.
constexpr size_t kMaxGraphs = 64;

// Appends the raw bytes of trivially copyable fields to an op key.
class KeyWriter {
 public:
  explicit KeyWriter(const char* op) { key_ = op; key_.push_back('\0'); }
  template <typename T>
  KeyWriter& operator<<(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>, "key fields must be plain values");
    key_.append(reinterpret_cast<const char*>(&value), sizeof(T));
    return *this;
  }
  KeyWriter& operator<<(const RowLayout& layout) {
    return *this << layout.batch << layout.rows << layout.ld << layout.batch_stride;
  }
  std::string take() { return std::move(key_); }

 private:
  std::string key_;
};

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  const long parsed = std::strtol(value, &end, 10);
  if (*end != '\0') throw std::invalid_argument(std::string("Expected an integer for ") + name + " but received " + value);
  return static_cast<int>(parsed);
}

// The largest power of two (at most 256) dividing every value: the alignment cuBLASLt may assume
// for an operand whose address, leading dimension and batch stride (in bytes) are these.
uint32_t alignment_of(std::initializer_list<uint64_t> byte_values) {
  uint64_t combined = 256;
  for (uint64_t v : byte_values) combined |= v;
  return static_cast<uint32_t>(combined & (~combined + 1));
}

size_t round_up(size_t value, size_t granularity) { return (value + granularity - 1) / granularity * granularity; }

// A cuBLASLt call planned once per shape: descriptors and the chosen algorithm.
struct LtPlan {
  const lt::Api* api = nullptr;
  lt::MatmulDesc desc = nullptr;
  lt::MatrixLayout a = nullptr, b = nullptr, c = nullptr;
  lt::MatmulAlgo algo{};
  size_t workspace = 0;
  bool batch_loop = false;  // cuBLASLt refused the strided batch: one call per group
  ~LtPlan() {
    if (api == nullptr) return;
    if (desc != nullptr) api->desc_destroy(desc);
    if (a != nullptr) api->layout_destroy(a);
    if (b != nullptr) api->layout_destroy(b);
    if (c != nullptr) api->layout_destroy(c);
  }
};

void check_lt(lt::Status status, const char* what) {
  if (status != lt::kStatusSuccess) throw CudaError(std::string(what) + " failed: " + lt::status_name(status));
}

// Plans are shared by every backend of the process (engines of several streams run on several
// threads), so the cache is guarded.
std::mutex& plan_mutex() {
  static std::mutex mutex;
  return mutex;
}
std::map<std::string, std::shared_ptr<LtPlan>>& plan_cache() {
  static std::map<std::string, std::shared_ptr<LtPlan>> cache;
  return cache;
}

}  // namespace

CudaBackendOptions options_from_environment(CudaBackendOptions options) {
  options.device = env_int("SCTDIFF_CUDA_DEVICE", options.device);
  options.graphs = env_int("SCTDIFF_CUDA_GRAPHS", options.graphs ? 1 : 0) != 0;
  if (const char* gemm = std::getenv("SCTDIFF_CUDA_GEMM"); gemm != nullptr && *gemm != '\0') {
    const std::string value = gemm;
    if (value == "bf16") options.precision = GemmPrecision::kBf16;
    else if (value == "tf32") options.precision = GemmPrecision::kTf32;
    else if (value == "fp32") options.precision = GemmPrecision::kFp32;
    else if (value == "simt") options.force_simt_gemm = true;
    else throw std::invalid_argument("Expected SCTDIFF_CUDA_GEMM to be bf16, tf32, fp32 or simt but received " + value);
  }
  if (const char* attention = std::getenv("SCTDIFF_CUDA_ATTENTION"); attention != nullptr && *attention != '\0') {
    const std::string value = attention;
    if (value == "mma") options.attention_mma = true;
    else if (value == "simt") options.attention_mma = false;
    else throw std::invalid_argument("Expected SCTDIFF_CUDA_ATTENTION to be simt or mma but received " + value);
  }
  return options;
}

// ---------------------------------------------------------------------------------------------
// Lifetime

CudaBackend::CudaBackend(const CudaBackendOptions& options) : options_(options) {
  int count = 0;
  check_cuda(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  if (count == 0) throw CudaUnavailableError("No CUDA device found. Possible fixes: run on a machine with an NVIDIA GPU, or use device: 'cpu'");
  if (options_.device < 0 || options_.device >= count) {
    throw CudaUnavailableError("Expected a CUDA device index in [0, " + std::to_string(count - 1) + "] but received " +
                               std::to_string(options_.device));
  }
  SCTDIFF_CUDA_CHECK(cudaSetDevice(options_.device));
  SCTDIFF_CUDA_CHECK(cudaDeviceGetAttribute(&compute_major_, cudaDevAttrComputeCapabilityMajor, options_.device));
  SCTDIFF_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  if (!options_.force_simt_gemm) {
    std::string reason;
    lt_ = lt::load(&reason);
    if (lt_ == nullptr && !options_.allow_simt_gemm) throw CudaUnavailableError(reason);
    if (lt_ != nullptr) {
      check_lt(lt_->create(&lt_handle_), "cublasLtCreate");
      ensure_device_buffer(lt_workspace_, kLtWorkspaceBytes);
    }
  }
  ensure_pinned_buffer(upload_arena_, kUploadArenaBytes);
  ensure_device_buffer(device_parameters_, kDeviceParameterBytes);
}

CudaBackend::~CudaBackend() {
  // Destructors must not throw: report nothing, free what exists.
  cudaSetDevice(options_.device);
  try {
    flush();
  } catch (...) {
  }
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  free_graphs();
  for (auto& [source, copy] : weight_copies_) cudaFree(copy.data);
  for (Buffer* buffer : {&lt_workspace_, &a_bf16_, &gemm_tmp_, &frame_device_, &device_parameters_}) {
    if (buffer->data != nullptr) cudaFree(buffer->data);
  }
  for (Buffer* buffer : {&upload_arena_, &frame_pinned_}) {
    if (buffer->data != nullptr) cudaFreeHost(buffer->data);
  }
  for (auto& [ptr, bytes] : allocations_) cudaFree(const_cast<void*>(ptr));
  if (lt_handle_ != nullptr) lt_->destroy(lt_handle_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void CudaBackend::make_current() const { SCTDIFF_CUDA_CHECK(cudaSetDevice(options_.device)); }

WeightPlacement CudaBackend::weight_placement() const {
  return {"cuda:" + std::to_string(options_.device), std::make_shared<CudaWeightAllocator>(options_.device)};
}

void CudaBackend::free_graphs() {
  for (auto& [key, entry] : graphs_) {
    if (entry.exec != nullptr) cudaGraphExecDestroy(entry.exec);
  }
  graphs_.clear();
}

std::string CudaBackend::gemm_description() const {
  if (lt_ == nullptr) return "simt fp32 (cuBLASLt not used)";
  const char* precision = options_.precision == GemmPrecision::kBf16   ? "bf16"
                          : options_.precision == GemmPrecision::kTf32 ? "tf32"
                                                                       : "fp32";
  return "cublasLt " + std::to_string(lt_->get_version()) + ", " + precision;
}

// ---------------------------------------------------------------------------------------------
// Recording and replay

void CudaBackend::submit(std::string key, Launch launch) {
  if (!options_.graphs) {
    upload_pending_frames();  // the op may read them, and runs now
    std::vector<PendingOp> ops;
    ops.push_back(PendingOp{std::move(launch), phase_});
    run_eager(ops);
    return;
  }
  const uint32_t length = static_cast<uint32_t>(key.size());
  pending_key_.append(reinterpret_cast<const char*>(&length), sizeof(length));
  pending_key_ += key;
  pending_.push_back(PendingOp{std::move(launch), phase_});
}

void CudaBackend::run_eager(std::vector<PendingOp>& ops) {
  const char* open = nullptr;
  for (PendingOp& op : ops) {
    if (op.phase != open) {
      if (open != nullptr) nvtx_pop();
      open = op.phase;
      if (open != nullptr) nvtx_push(open);
    }
    op.launch(stream_);
    ++stats_.eager_ops;
  }
  if (open != nullptr) nvtx_pop();
}

void CudaBackend::flush() {
  // Ahead of the recorded ops (and outside any capture: the copy's size changes every step).
  upload_pending_frames();
  if (pending_.empty()) return;
  std::vector<PendingOp> ops = std::move(pending_);
  std::string key = std::move(pending_key_);
  pending_.clear();
  pending_key_.clear();
  ++stats_.flushes;
  if (ops.size() < kMinGraphOps) {
    run_eager(ops);
    return;
  }
  if (graphs_.size() >= kMaxGraphs && graphs_.count(key) == 0) {
    SCTDIFF_CUDA_CHECK(cudaStreamSynchronize(stream_));
    free_graphs();
  }
  GraphEntry& entry = graphs_[key];
  ++entry.sightings;
  NvtxRange range(phase::kGraph);
  if (entry.exec == nullptr && entry.sightings >= 2) {
    SCTDIFF_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    cudaGraph_t graph = nullptr;
    try {
      run_eager(ops);
    } catch (...) {
      cudaStreamEndCapture(stream_, &graph);
      if (graph != nullptr) cudaGraphDestroy(graph);
      graphs_.erase(key);
      throw;
    }
    stats_.eager_ops -= static_cast<int64_t>(ops.size());  // captured, not launched
    SCTDIFF_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
    const cudaError_t status = cudaGraphInstantiate(&entry.exec, graph, 0);
    cudaGraphDestroy(graph);
    check_cuda(status, "cudaGraphInstantiate");
    ++stats_.graph_captures;
  }
  if (entry.exec != nullptr) {
    SCTDIFF_CUDA_CHECK(cudaGraphLaunch(entry.exec, stream_));
    ++stats_.graph_launches;
  } else {
    run_eager(ops);
  }
}

void CudaBackend::drain() {
  flush();
  SCTDIFF_CUDA_CHECK(cudaStreamSynchronize(stream_));
  upload_offset_ = 0;
  parameter_offset_ = 0;
  frame_offset_ = 0;
  frame_uploaded_ = 0;
  ++drains_;
}

void CudaBackend::upload_pending_frames() {
  if (frame_offset_ == frame_uploaded_) return;
  NvtxRange range(phase::kUpload);
  SCTDIFF_CUDA_CHECK(cudaMemcpyAsync(static_cast<uint8_t*>(frame_device_.data) + frame_uploaded_,
                                     static_cast<const uint8_t*>(frame_pinned_.data) + frame_uploaded_,
                                     frame_offset_ - frame_uploaded_, cudaMemcpyHostToDevice, stream_));
  ++stats_.frame_uploads;
  frame_uploaded_ = frame_offset_;
}

void* CudaBackend::stage_parameters(const void* host, size_t bytes) {
  const size_t aligned = round_up(bytes, 16);
  if (aligned > device_parameters_.bytes) throw CudaError("Per-call parameters of " + std::to_string(bytes) + " bytes exceed the staging area");
  if (parameter_offset_ + aligned > device_parameters_.bytes) drain();
  void* dst = static_cast<char*>(device_parameters_.data) + parameter_offset_;
  parameter_offset_ += aligned;
  upload(dst, host, bytes);
  return dst;
}

void CudaBackend::ensure_device_buffer(Buffer& buffer, size_t bytes) {
  if (buffer.bytes >= bytes) return;
  drain();  // pending ops may still point at the old buffer
  if (buffer.data != nullptr) SCTDIFF_CUDA_CHECK(cudaFree(buffer.data));
  buffer.data = nullptr;
  buffer.bytes = 0;
  SCTDIFF_CUDA_CHECK(cudaMalloc(&buffer.data, bytes));
  buffer.bytes = bytes;
}

void CudaBackend::ensure_pinned_buffer(Buffer& buffer, size_t bytes) {
  if (buffer.bytes >= bytes) return;
  drain();
  if (buffer.data != nullptr) SCTDIFF_CUDA_CHECK(cudaFreeHost(buffer.data));
  buffer.data = nullptr;
  buffer.bytes = 0;
  SCTDIFF_CUDA_CHECK(cudaMallocHost(&buffer.data, bytes));
  buffer.bytes = bytes;
}

// ---------------------------------------------------------------------------------------------
// Memory

void* CudaBackend::allocate(size_t bytes) {
  void* ptr = nullptr;
  // cudaMalloc aligns to at least 256 bytes, above the interface's 64.
  SCTDIFF_CUDA_CHECK(cudaMalloc(&ptr, std::max<size_t>(bytes, 1)));
  allocations_[ptr] = bytes;
  return ptr;
}

void CudaBackend::release(void* ptr) {
  if (ptr == nullptr) return;
  drain();  // recorded ops may still read or write it
  auto it = allocations_.find(ptr);
  if (it != allocations_.end()) {
    invalidate_weight_copies(ptr, it->second);
    allocations_.erase(it);
  }
  SCTDIFF_CUDA_CHECK(cudaFree(ptr));
}

void CudaBackend::invalidate_weight_copies(const void* begin, size_t bytes) {
  const char* lo = static_cast<const char*>(begin);
  const char* hi = lo + bytes;
  for (auto it = weight_copies_.begin(); it != weight_copies_.end();) {
    const char* w = reinterpret_cast<const char*>(it->first);
    const WeightCopy& copy = it->second;
    const char* w_end = w + (static_cast<int64_t>(copy.n - 1) * copy.ldw + copy.k) * sizeof(float);
    if (w < hi && lo < w_end) {
      drain();
      cudaFree(copy.data);
      it = weight_copies_.erase(it);
    } else {
      ++it;
    }
  }
}

void CudaBackend::upload(void* dst, const void* host_src, size_t bytes) {
  if (bytes == 0) return;
  invalidate_weight_copies(dst, bytes);
  NvtxRange range(phase::kUpload);
  if (bytes > kSmallUpload) {
    flush();
    SCTDIFF_CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, stream_));
    SCTDIFF_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return;
  }
  const size_t aligned = round_up(bytes, 64);
  if (upload_offset_ + aligned > upload_arena_.bytes) drain();
  char* staged = static_cast<char*>(upload_arena_.data) + upload_offset_;
  upload_offset_ += aligned;
  std::memcpy(staged, host_src, bytes);
  KeyWriter key("upload");
  key << dst << static_cast<const void*>(staged) << bytes;
  submit(key.take(), [dst, staged, bytes](cudaStream_t stream) {
    SCTDIFF_CUDA_CHECK(cudaMemcpyAsync(dst, staged, bytes, cudaMemcpyHostToDevice, stream));
  });
}

void CudaBackend::download(void* host_dst, const void* src, size_t bytes) {
  flush();
  NvtxRange range(phase::kReadback);
  if (bytes > 0) SCTDIFF_CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
  drain();
}

void CudaBackend::copy(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  invalidate_weight_copies(dst, bytes);
  KeyWriter key("copy");
  key << dst << src << bytes;
  submit(key.take(), [dst, src, bytes](cudaStream_t stream) {
    SCTDIFF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream));
  });
}

void CudaBackend::copy_blocks(const BlockCopyParams& p) {
  if (p.count <= 0 || p.elements <= 0) return;
  if (p.count > kMaxCopyBlocks) {
    throw CudaError("Expected at most " + std::to_string(kMaxCopyBlocks) + " blocks in one CUDA block copy but received " +
                    std::to_string(p.count));
  }
  const size_t bytes = static_cast<size_t>(p.elements) * sizeof(float);
  // Sources then destinations, staged in device memory: the blocks' places are not in the key,
  // so a batch of streams whose templates and slots differ from call to call replays one graph.
  const void* addresses[2 * kMaxCopyBlocks];
  bool vectorized = p.elements % 4 == 0;
  for (int i = 0; i < p.count; ++i) {
    addresses[i] = p.sources[i];
    addresses[p.count + i] = p.destinations[i];
    invalidate_weight_copies(p.destinations[i], bytes);
    vectorized = vectorized && reinterpret_cast<uintptr_t>(p.sources[i]) % 16 == 0 &&
                 reinterpret_cast<uintptr_t>(p.destinations[i]) % 16 == 0;
  }
  const auto* staged = static_cast<const float* const*>(stage_parameters(addresses, sizeof(const void*) * 2 * p.count));
  KeyWriter key("copy_blocks");
  key << p.count << p.elements << vectorized << staged;
  const int count = p.count;
  const int64_t elements = p.elements;
  submit(key.take(), [count, elements, vectorized, staged](cudaStream_t stream) {
    launch_block_copy(count, elements, vectorized, staged, stream);
  });
}

void CudaBackend::synchronize() {
  NvtxRange range(phase::kReadback);
  drain();
}

// ---------------------------------------------------------------------------------------------
// GEMM

const uint16_t* CudaBackend::weight_bf16(const float* w, int n, int k, int64_t ldw) {
  auto it = weight_copies_.find(w);
  if (it != weight_copies_.end() && it->second.n == n && it->second.k == k && it->second.ldw == ldw) return it->second.data;
  if (it != weight_copies_.end()) {
    drain();
    cudaFree(it->second.data);
    weight_copies_.erase(it);
  }
  WeightCopy copy{n, k, ldw, nullptr};
  SCTDIFF_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&copy.data), static_cast<size_t>(n) * k * sizeof(uint16_t)));
  weight_copies_.emplace(w, copy);
  uint16_t* dst = copy.data;
  KeyWriter key("weight_bf16");
  key << w << n << k << ldw << dst;
  submit(key.take(), [w, n, k, ldw, dst](cudaStream_t stream) {
    launch_rows_to_bf16(w, RowLayout::contiguous(n, ldw), k, dst, stream);
  });
  return dst;
}

void CudaBackend::gemm(const GemmParams& p) {
  if (p.a_layout.batch <= 0 || p.a_layout.rows <= 0 || p.n <= 0) return;
  if (lt_ == nullptr || p.k <= 0) {
    KeyWriter key("simt_gemm");
    key << p.n << p.k << p.a << p.a_layout << p.w << p.ldw << p.bias << p.c << p.c_layout << p.alpha << p.beta << p.act;
    submit(key.take(), [p](cudaStream_t stream) { launch_simt_gemm(p, stream); });
    return;
  }
  gemm_cublaslt(p);
}

void CudaBackend::gemm_cublaslt(const GemmParams& p) {
  const bool bf16 = options_.precision == GemmPrecision::kBf16;
  int batch = p.a_layout.batch, m = p.a_layout.rows;
  RowLayout a_layout = p.a_layout, c_layout = p.c_layout;
  // Batches laid end to end are one taller matrix.
  if (batch > 1 && a_layout.batch_stride == m * a_layout.ld && c_layout.batch_stride == m * c_layout.ld) {
    m *= batch;
    batch = 1;
    a_layout = RowLayout::contiguous(m, a_layout.ld);
    c_layout = RowLayout::contiguous(m, c_layout.ld);
  }
  const int total_rows = batch * m;

  // Where the product lands and which epilogue cuBLASLt applies (see NOTES.md, "GEMM epilogues").
  const bool direct = p.act == Activation::kNone && (p.bias == nullptr || p.alpha == 1.0f);
  const bool in_place = !direct && p.beta == 0.0f;
  float* d = p.c;
  RowLayout d_layout = c_layout;
  if (!direct && !in_place) {
    ensure_device_buffer(gemm_tmp_, static_cast<size_t>(total_rows) * p.n * sizeof(float));
    d = static_cast<float*>(gemm_tmp_.data);
    d_layout = RowLayout{batch, m, p.n, static_cast<int64_t>(m) * p.n};
  }
  const float alpha = direct ? p.alpha : 1.0f;
  const float beta = direct ? p.beta : 0.0f;
  const lt::Epilogue epilogue = p.bias != nullptr ? lt::kEpilogueBias : lt::kEpilogueDefault;

  // Operands: cuBLASLt is column-major, so the row-major product C = A·Wᵀ is Cᵀ = W·Aᵀ with
  // W as cuBLAS "A" (k x n, transposed) and our A as cuBLAS "B" (k x m).
  const void* a_operand = p.a;
  int64_t a_ld = a_layout.ld, a_stride = a_layout.batch_stride;
  const void* w_operand = p.w;
  int64_t w_ld = p.ldw;
  uint16_t* a_bf16 = nullptr;
  if (bf16) {
    ensure_device_buffer(a_bf16_, static_cast<size_t>(total_rows) * p.k * sizeof(uint16_t));
    a_bf16 = static_cast<uint16_t*>(a_bf16_.data);
    w_operand = weight_bf16(p.w, p.n, p.k, p.ldw);
    a_operand = a_bf16;
    a_ld = p.k;
    a_stride = static_cast<int64_t>(m) * p.k;
  }
  const cudaDataType_t in_type = bf16 ? CUDA_R_16BF : CUDA_R_32F;
  const int compute = options_.precision == GemmPrecision::kTf32 ? lt::kCompute32FFastTF32 : lt::kCompute32F;

  const size_t in_bytes = bf16 ? sizeof(uint16_t) : sizeof(float);
  const uint32_t align_w = alignment_of({reinterpret_cast<uintptr_t>(w_operand), static_cast<uint64_t>(w_ld) * in_bytes});
  const uint32_t align_a = alignment_of({reinterpret_cast<uintptr_t>(a_operand), static_cast<uint64_t>(a_ld) * in_bytes,
                                         static_cast<uint64_t>(a_stride) * in_bytes});
  const uint32_t align_d = alignment_of({reinterpret_cast<uintptr_t>(d), static_cast<uint64_t>(d_layout.ld) * 4,
                                         static_cast<uint64_t>(d_layout.batch_stride) * 4});
  KeyWriter plan_key("plan");
  plan_key << static_cast<int>(options_.precision) << p.n << p.k << m << batch << a_ld << a_stride << w_ld
           << d_layout.ld << d_layout.batch_stride << p.bias << epilogue << (beta != 0.0f) << align_w << align_a
           << align_d;
  std::string plan_id = plan_key.take();
  std::unique_lock<std::mutex> plan_lock(plan_mutex());
  std::shared_ptr<LtPlan>& plan = plan_cache()[plan_id];
  if (!plan) {
    auto fresh = std::make_shared<LtPlan>();
    fresh->api = lt_;
    auto build = [&](int groups) {
      for (lt::MatrixLayout* layout : {&fresh->a, &fresh->b, &fresh->c}) {
        if (*layout != nullptr) lt_->layout_destroy(*layout);
        *layout = nullptr;
      }
      if (fresh->desc != nullptr) lt_->desc_destroy(fresh->desc);
      fresh->desc = nullptr;
      check_lt(lt_->desc_create(&fresh->desc, compute, CUDA_R_32F), "cublasLtMatmulDescCreate");
      const int32_t trans_a = lt::kOpT, trans_b = lt::kOpN;
      check_lt(lt_->desc_set(fresh->desc, lt::kDescTransA, &trans_a, sizeof(trans_a)), "set TRANSA");
      check_lt(lt_->desc_set(fresh->desc, lt::kDescTransB, &trans_b, sizeof(trans_b)), "set TRANSB");
      const uint32_t epi = epilogue;
      check_lt(lt_->desc_set(fresh->desc, lt::kDescEpilogue, &epi, sizeof(epi)), "set EPILOGUE");
      if (p.bias != nullptr) {
        check_lt(lt_->desc_set(fresh->desc, lt::kDescBiasPointer, &p.bias, sizeof(p.bias)), "set BIAS_POINTER");
        const cudaDataType_t bias_type = CUDA_R_32F;
        check_lt(lt_->desc_set(fresh->desc, lt::kDescBiasDataType, &bias_type, sizeof(bias_type)), "set BIAS_DATA_TYPE");
      }
      check_lt(lt_->layout_create(&fresh->a, in_type, p.k, p.n, w_ld), "cublasLtMatrixLayoutCreate(W)");
      check_lt(lt_->layout_create(&fresh->b, in_type, p.k, m, a_ld), "cublasLtMatrixLayoutCreate(A)");
      check_lt(lt_->layout_create(&fresh->c, CUDA_R_32F, p.n, m, d_layout.ld), "cublasLtMatrixLayoutCreate(C)");
      if (groups > 1) {
        const int32_t count = groups;
        const int64_t zero = 0;
        check_lt(lt_->layout_set(fresh->a, lt::kLayoutBatchCount, &count, sizeof(count)), "set BATCH_COUNT");
        check_lt(lt_->layout_set(fresh->a, lt::kLayoutStridedBatchOffset, &zero, sizeof(zero)), "set STRIDE");
        check_lt(lt_->layout_set(fresh->b, lt::kLayoutBatchCount, &count, sizeof(count)), "set BATCH_COUNT");
        check_lt(lt_->layout_set(fresh->b, lt::kLayoutStridedBatchOffset, &a_stride, sizeof(a_stride)), "set STRIDE");
        check_lt(lt_->layout_set(fresh->c, lt::kLayoutBatchCount, &count, sizeof(count)), "set BATCH_COUNT");
        check_lt(lt_->layout_set(fresh->c, lt::kLayoutStridedBatchOffset, &d_layout.batch_stride,
                                 sizeof(d_layout.batch_stride)), "set STRIDE");
      }
      lt::Preference preference = nullptr;
      check_lt(lt_->pref_create(&preference), "cublasLtMatmulPreferenceCreate");
      const uint64_t workspace = kLtWorkspaceBytes;
      lt_->pref_set(preference, lt::kPrefMaxWorkspaceBytes, &workspace, sizeof(workspace));
      // cuBLAS "A" is our W, "B" our A; C and D are the same matrix.
      lt_->pref_set(preference, lt::kPrefMinAlignmentA, &align_w, sizeof(align_w));
      lt_->pref_set(preference, lt::kPrefMinAlignmentB, &align_a, sizeof(align_a));
      lt_->pref_set(preference, lt::kPrefMinAlignmentC, &align_d, sizeof(align_d));
      lt_->pref_set(preference, lt::kPrefMinAlignmentD, &align_d, sizeof(align_d));
      lt::HeuristicResult result{};
      int returned = 0;
      const lt::Status status = lt_->heuristic(lt_handle_, fresh->desc, fresh->a, fresh->b, fresh->c, fresh->c,
                                               preference, 1, &result, &returned);
      lt_->pref_destroy(preference);
      if (status != lt::kStatusSuccess || returned == 0) return false;
      fresh->algo = result.algo;
      fresh->workspace = result.workspace_size;
      return true;
    };
    if (!build(batch)) {
      if (batch == 1 || !build(1)) {
        plan_cache().erase(plan_id);
        throw CudaError("cuBLASLt found no algorithm for a GEMM of n=" + std::to_string(p.n) + " k=" + std::to_string(p.k) +
                        " m=" + std::to_string(m) + " batch=" + std::to_string(batch));
      }
      fresh->batch_loop = true;
    }
    plan = fresh;
  }
  std::shared_ptr<LtPlan> shared_plan = plan;
  plan_lock.unlock();

  KeyWriter key("gemm");
  key << shared_plan.get() << p.a << p.a_layout << w_operand << a_bf16 << d << p.c << p.c_layout << p.alpha << p.beta << p.act
      << p.bias << lt_workspace_.data;
  const lt::Api* api = lt_;
  lt::Handle handle = lt_handle_;
  void* workspace = lt_workspace_.data;
  const int k = p.k;
  const GemmParams params = p;
  submit(key.take(), [=](cudaStream_t stream) {
    if (a_bf16 != nullptr) launch_rows_to_bf16(params.a, a_layout, k, a_bf16, stream);
    const int calls = shared_plan->batch_loop ? batch : 1;
    for (int g = 0; g < calls; ++g) {
      const char* b_ptr = static_cast<const char*>(a_operand) + static_cast<size_t>(g) * a_stride * in_bytes;
      float* d_ptr = d + static_cast<int64_t>(g) * d_layout.batch_stride;
      check_lt(api->matmul(handle, shared_plan->desc, &alpha, w_operand, shared_plan->a, b_ptr, shared_plan->b, &beta,
                           d_ptr, shared_plan->c, d_ptr, shared_plan->c, &shared_plan->algo, workspace,
                           shared_plan->workspace, stream),
               "cublasLtMatmul");
    }
    if (in_place) {
      launch_gemm_epilogue(d, d_layout, nullptr, d, d_layout, params.n, params.alpha, 0.0f, params.act, stream);
    } else if (!direct) {
      launch_gemm_epilogue(d, d_layout, nullptr, params.c, c_layout, params.n, params.alpha, params.beta, params.act,
                           stream);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Other ops: each records its launcher with a key of every parameter.

void CudaBackend::layer_norm(const LayerNormParams& p) {
  KeyWriter key("layer_norm");
  key << p.dim << p.x << p.x_layout << p.weight << p.bias << p.eps << p.out << p.out_layout;
  submit(key.take(), [p](cudaStream_t stream) { launch_layer_norm(p, stream); });
}

void CudaBackend::rms_norm(const RmsNormParams& p) {
  KeyWriter key("rms_norm");
  key << p.dim << p.x << p.x_layout << p.weight << p.eps << p.out << p.out_layout;
  submit(key.take(), [p](cudaStream_t stream) { launch_rms_norm(p, stream); });
}

void CudaBackend::attention(const AttentionParams& p) {
  const bool mma = options_.attention_mma && attention_mma_supported(p.head_dim, compute_major_);
  KeyWriter key("attention");
  key << p.batch << p.seq << p.heads << p.head_dim << p.qkv << p.out << p.scale << mma;
  submit(key.take(), [p, mma](cudaStream_t stream) {
    if (mma) launch_attention_mma(p, stream);
    else launch_attention(p, stream);
  });
}

void CudaBackend::patchify(const PatchifyParams& p) {
  KeyWriter key("patchify");
  key << p.batch << p.channels << p.height << p.width << p.patch << p.channels_last << p.out;
  const float* const* images = nullptr;
  if (p.batch_offsets != nullptr) {
    // The decoder's feature slots rotate from step to step: their addresses travel through
    // device memory so the step's graph stays the same.
    if (p.batch > kMaxPatchifyImages) {
      throw CudaError("Expected at most " + std::to_string(kMaxPatchifyImages) +
                      " images with offsets in one CUDA patchify but received " + std::to_string(p.batch));
    }
    const float* addresses[kMaxPatchifyImages];
    for (int b = 0; b < p.batch; ++b) addresses[b] = p.in + p.batch_offsets[b];
    images = static_cast<const float* const*>(stage_parameters(addresses, sizeof(const float*) * p.batch));
    key << images;
  } else {
    key << p.in;
  }
  PatchifyParams params = p;
  params.batch_offsets = nullptr;  // host memory of the caller; `images` travels instead
  submit(key.take(), [params, images](cudaStream_t stream) { launch_patchify(params, images, stream); });
}

void CudaBackend::add_rows(const AddRowsParams& p) {
  KeyWriter key("add_rows");
  key << p.dim << p.table << p.table_ld << p.per_batch << p.per_batch_ld << p.per_batch_period << p.out << p.out_layout
      << p.overwrite;
  submit(key.take(), [p](cudaStream_t stream) { launch_add_rows(p, stream); });
}

void CudaBackend::timestep_embed(const TimestepEmbedParams& p) {
  KeyWriter key("timestep_embed");
  key << p.count << p.dim << p.timesteps << p.out;
  submit(key.take(), [p](cudaStream_t stream) { launch_timestep_embed(p, stream); });
}

void CudaBackend::trajectory_input(const TrajectoryInputParams& p) {
  // Seeds change every step, so they travel through device memory rather than the key.
  if (p.windows <= 0 || p.frames <= 0) return;
  const auto* seeds = static_cast<const uint64_t*>(stage_parameters(p.seeds, sizeof(uint64_t) * static_cast<size_t>(p.windows)));
  KeyWriter key("trajectory_input");
  key << p.windows << p.frames << p.dim << p.tokens << p.table << p.signal << p.noise << seeds << p.pos1d << p.temporal
      << p.time_emb << p.out << p.out_layout;
  TrajectoryInputParams params = p;
  params.seeds = nullptr;  // host memory of the caller; `seeds` travels instead
  submit(key.take(), [params, seeds](cudaStream_t stream) { launch_trajectory_input(params, seeds, stream); });
}

void CudaBackend::causal_conv1d_silu(const CausalConv1dParams& p) {
  KeyWriter key("conv1d");
  key << p.seq << p.channels << p.width << p.x << p.ldx << p.weight << p.bias << p.out << p.ldout << p.reverse
      << p.sequences << p.sequence_stride;
  submit(key.take(), [p](cudaStream_t stream) { launch_causal_conv1d_silu(p, stream); });
}

void CudaBackend::selective_scan(const SelectiveScanParams& p) {
  KeyWriter key("scan");
  key << p.seq << p.channels << p.state << p.u << p.ldu << p.delta << p.ld_delta << p.a << p.b << p.c << p.ld_bc
      << p.d << p.z << p.ldz << p.out << p.ldout << p.reverse << p.accumulate
      << p.sequences << p.sequence_stride;
  submit(key.take(), [p](cudaStream_t stream) { launch_selective_scan(p, stream); });
}

void CudaBackend::top1(const Top1Params& p) {
  KeyWriter key("top1");
  key << p.vocab << p.logits << p.layout << p.tokens << p.scores;
  submit(key.take(), [p](cudaStream_t stream) { launch_top1(p, stream); });
}

// ---------------------------------------------------------------------------------------------
// Preprocessing

void CudaBackend::preprocess(const PreprocessParams& p) {
  if (p.count <= 0) return;
  // Only the part of each frame its crop covers is copied; the crop is rebased onto it, which
  // leaves every tap's value unchanged (pixels outside the frame are zero either way). The
  // regions are packed one after another into the pinned frame area, and everything packed
  // since the last flush goes up in one copy at the next flush (upload_pending_frames).
  struct Region {
    int left = 0, top = 0, width = 0, height = 0, channels = 0;
    size_t row_bytes = 0, offset = 0;  // offset: from the call's first region
  };
  std::vector<Region> regions(static_cast<size_t>(p.count));
  size_t total = 0;
  int max_size = 0;
  for (int i = 0; i < p.count; ++i) {
    const FrameView& frame = p.images[i].frame;
    const CropParams& crop = p.images[i].crop;
    Region& r = regions[static_cast<size_t>(i)];
    r.channels = pixel_channels(frame.format);
    r.left = std::max(0, crop.x0);
    r.top = std::max(0, crop.y0);
    r.width = std::max(0, std::min(frame.width, crop.x0 + crop.side) - r.left);
    r.height = std::max(0, std::min(frame.height, crop.y0 + crop.side) - r.top);
    r.row_bytes = static_cast<size_t>(r.width) * r.channels;
    r.offset = total;
    total += round_up(std::max<size_t>(r.row_bytes * r.height, 1), kFrameAlignment);
    max_size = std::max(max_size, crop.output_size);
  }
  // Make room for everything first: a drain in the middle (to grow or recycle a staging area)
  // would restart the frame area under regions already placed.
  const size_t args_bytes = sizeof(PreprocessArgs) * static_cast<size_t>(p.count);
  const bool frames_fit = frame_offset_ + total <= frame_pinned_.bytes;
  const bool parameters_fit = parameter_offset_ + round_up(args_bytes, 16) <= device_parameters_.bytes;
  const bool arena_fits = args_bytes > kSmallUpload || upload_offset_ + round_up(args_bytes, 64) <= upload_arena_.bytes;
  if (!frames_fit || !parameters_fit || !arena_fits) drain();
  if (total > frame_pinned_.bytes) {
    const size_t bytes = std::max(2 * frame_pinned_.bytes, round_up(total, kFrameAreaGranularity));
    ensure_pinned_buffer(frame_pinned_, bytes);
    ensure_device_buffer(frame_device_, bytes);
  }
  const uint64_t drains = drains_;

  std::vector<PreprocessArgs> args(static_cast<size_t>(p.count));
  {
    NvtxRange range(phase::kUpload);
    for (int i = 0; i < p.count; ++i) {
      const PreprocessImage& image = p.images[i];
      const Region& r = regions[static_cast<size_t>(i)];
      const size_t at = frame_offset_ + r.offset;
      uint8_t* pinned = static_cast<uint8_t*>(frame_pinned_.data) + at;
      for (int y = 0; y < r.height; ++y) {
        std::memcpy(pinned + static_cast<size_t>(y) * r.row_bytes,
                    image.frame.data + static_cast<int64_t>(r.top + y) * image.frame.stride +
                        static_cast<int64_t>(r.left) * r.channels,
                    r.row_bytes);
      }
      PreprocessArgs& a = args[static_cast<size_t>(i)];
      a.pixels = static_cast<const uint8_t*>(frame_device_.data) + at;
      a.out = image.out;
      a.width = r.width;
      a.height = r.height;
      a.stride = static_cast<int>(r.row_bytes);
      a.format = static_cast<int>(image.frame.format);
      a.x0 = image.crop.x0 - r.left;
      a.y0 = image.crop.y0 - r.top;
      a.side = image.crop.side;
      a.output_size = image.crop.output_size;
      for (int c = 0; c < 3; ++c) {
        a.mean[c] = p.mean[c];
        a.std[c] = p.std[c];
      }
    }
  }
  frame_offset_ += total;
  const char* previous = phase_;
  phase_ = phase::kPreprocess;
  const auto* args_device = static_cast<const PreprocessArgs*>(stage_parameters(args.data(), args_bytes));
  if (drains_ != drains) throw CudaError("Internal error: a staging area was recycled while frames were being placed");
  stats_.frames += p.count;

  // Frame sizes, crops and output addresses travel in device memory: the key (and so the graph)
  // depends only on where the arguments are, how many images and the largest output size.
  KeyWriter key("preprocess");
  key << static_cast<const void*>(args_device) << p.count << max_size;
  const int count = p.count;
  submit(key.take(), [args_device, count, max_size](cudaStream_t stream) {
    launch_preprocess(args_device, count, max_size, stream);
  });
  phase_ = previous;
}

}  // namespace sctdiff::cuda
