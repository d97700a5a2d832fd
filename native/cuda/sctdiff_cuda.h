/* The C ABI of libsctdiff_cuda.so, opened with dlopen by the addon at Tracker.create time
 * (native/cuda/README.md). Plain C types only, except the engine handles, which are a
 * `sctdiff::Engine*` (native/engine/engine.h) and a `sctdiff::BatchEngine*`
 * (native/engine/batch_engine.h): the addon and this library must be built from the same
 * engine.h and batch_engine.h, which sctdiff_cuda_abi_version() guards. */
#ifndef SCTDIFF_CUDA_H_
#define SCTDIFF_CUDA_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCTDIFF_CUDA_EXPORT __attribute__((visibility("default")))

/* Bumped whenever this header, native/engine/engine.h or native/engine/batch_engine.h changes
 * incompatibly. 2: the batch engine entry points. */
#define SCTDIFF_CUDA_ABI_VERSION 2

/* Status codes of every function below. */
#define SCTDIFF_CUDA_OK 0
#define SCTDIFF_CUDA_UNAVAILABLE 1  /* no device, driver or cuBLASLt: a host configuration */
#define SCTDIFF_CUDA_ERROR 2        /* a CUDA failure or a bug; the message says which */
#define SCTDIFF_CUDA_MODEL_ERROR 3  /* the weight file could not be loaded */
#define SCTDIFF_CUDA_BAD_ARGUMENT 4

/* Returns SCTDIFF_CUDA_ABI_VERSION of the library's build. */
SCTDIFF_CUDA_EXPORT int sctdiff_cuda_abi_version(void);

/* Describes device `device` into `info` (NUL-terminated, truncated to `size`): on OK one line
 * "<name>; compute <major>.<minor>; <SMs> SMs; <GiB> GiB; driver <v>; runtime <v>; cublasLt <v>",
 * on UNAVAILABLE the reason with possible fixes. Never throws, never aborts. */
SCTDIFF_CUDA_EXPORT int sctdiff_cuda_probe(int device, char* info, size_t size);

/* Loads the weight file at `weights_path` onto device `device` and returns an engine in
 * `*engine` (a sctdiff::Engine*, backend_name() "cuda"). On failure `*engine` is NULL and
 * `error` holds the message. Environment overrides: SCTDIFF_CUDA_GEMM (bf16 | tf32 | fp32 | simt),
 * SCTDIFF_CUDA_GRAPHS (1 | 0). */
SCTDIFF_CUDA_EXPORT int sctdiff_cuda_create_engine(const char* weights_path, int device, void** engine, char* error,
                                                   size_t error_size);

/* Destroys an engine returned by sctdiff_cuda_create_engine (NULL is ignored). */
SCTDIFF_CUDA_EXPORT void sctdiff_cuda_destroy_engine(void* engine);

/* One line of JSON about an engine: {"gemm": ..., "flushes": n, "graph_launches": n,
 * "graph_captures": n, "eager_ops": n}. Returns BAD_ARGUMENT for a NULL engine. */
SCTDIFF_CUDA_EXPORT int sctdiff_cuda_engine_stats(void* engine, char* info, size_t size);

/* Like sctdiff_cuda_create_engine, but `*engine` is a sctdiff::BatchEngine*: one engine (one
 * device copy of the weights, one stream of work) serving many tracker streams, whose encode
 * requests, or decode requests, run as one batch (native/engine/batch_engine.h). Same status
 * codes and environment overrides. */
SCTDIFF_CUDA_EXPORT int sctdiff_cuda_create_batch_engine(const char* weights_path, int device, void** engine,
                                                         char* error, size_t error_size);

/* Destroys an engine returned by sctdiff_cuda_create_batch_engine (NULL is ignored). */
SCTDIFF_CUDA_EXPORT void sctdiff_cuda_destroy_batch_engine(void* engine);

/* sctdiff_cuda_engine_stats for an engine returned by sctdiff_cuda_create_batch_engine. */
SCTDIFF_CUDA_EXPORT int sctdiff_cuda_batch_engine_stats(void* engine, char* info, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SCTDIFF_CUDA_H_ */
