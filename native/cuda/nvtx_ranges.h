// NVTX v3 ranges in the "sct-diff" domain with registered names, so `nsys profile -t cuda,nvtx`
// and `ncu --nvtx` show the pipeline (docs/profiling.md). NVTX v3 is header-only; without a
// profiler attached every call is a cheap no-op.
#pragma once

namespace sctdiff::cuda {

// The range names. Pointers to these constants are what CudaBackend::set_phase takes.
namespace phase {
inline constexpr const char* kFrame = "frame";          // one Engine call (set_template, encode, decode)
inline constexpr const char* kUpload = "upload";        // host -> device copies of frames and inputs
inline constexpr const char* kPreprocess = "preprocess";  // crop, resize, normalize
inline constexpr const char* kEncoder = "encoder";
inline constexpr const char* kDecoder = "decoder";
inline constexpr const char* kReadback = "readback";    // device -> host copies and the wait for them
inline constexpr const char* kGraph = "graph";          // one CUDA graph replay or capture of a step
}  // namespace phase

void nvtx_push(const char* name);
void nvtx_pop();

// RAII range; a null name opens nothing.
class NvtxRange {
 public:
  explicit NvtxRange(const char* name) : open_(name != nullptr) {
    if (open_) nvtx_push(name);
  }
  ~NvtxRange() {
    if (open_) nvtx_pop();
  }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;

 private:
  bool open_;
};

}  // namespace sctdiff::cuda
