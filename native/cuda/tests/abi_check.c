/* The C ABI of libsctdiff_cuda.so as the addon will use it, on a machine WITHOUT a GPU (CI):
 * compiled as C (so sctdiff_cuda.h stays valid C), dlopen's the library and checks each entry
 * point's status codes and messages. Exit 0 when every check passes, 1 otherwise, 77 when a GPU
 * is present (then the consistency program is the test).
 *
 *   abi_check <libsctdiff_cuda.so> <valid weights.safetensors> */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "../sctdiff_cuda.h"

static int failures = 0;

static void expect(int ok, const char* what, const char* detail) {
  printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, detail[0] ? ": " : "", detail);
  if (!ok) ++failures;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <libsctdiff_cuda.so> <weights.safetensors>\n", argv[0]);
    return 2;
  }
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    printf("FAIL dlopen: %s\n", dlerror());
    return 1;
  }
  int (*abi_version)(void) = (int (*)(void))dlsym(lib, "sctdiff_cuda_abi_version");
  int (*probe)(int, char*, size_t) = (int (*)(int, char*, size_t))dlsym(lib, "sctdiff_cuda_probe");
  int (*create)(const char*, int, void**, char*, size_t) =
      (int (*)(const char*, int, void**, char*, size_t))dlsym(lib, "sctdiff_cuda_create_engine");
  void (*destroy)(void*) = (void (*)(void*))dlsym(lib, "sctdiff_cuda_destroy_engine");
  int (*stats)(void*, char*, size_t) = (int (*)(void*, char*, size_t))dlsym(lib, "sctdiff_cuda_engine_stats");
  int (*create_batch)(const char*, int, void**, char*, size_t) =
      (int (*)(const char*, int, void**, char*, size_t))dlsym(lib, "sctdiff_cuda_create_batch_engine");
  void (*destroy_batch)(void*) = (void (*)(void*))dlsym(lib, "sctdiff_cuda_destroy_batch_engine");
  int (*batch_stats)(void*, char*, size_t) = (int (*)(void*, char*, size_t))dlsym(lib, "sctdiff_cuda_batch_engine_stats");
  if (!abi_version || !probe || !create || !destroy || !stats || !create_batch || !destroy_batch || !batch_stats) {
    printf("FAIL a C ABI function is missing\n");
    return 1;
  }
  char text[1024];
  expect(abi_version() == SCTDIFF_CUDA_ABI_VERSION, "abi version matches the header", "");

  int status = probe(0, text, sizeof(text));
  if (status == SCTDIFF_CUDA_OK) {
    printf("skipped: a CUDA device is present (%s)\n", text);
    return 77;
  }
  expect(status == SCTDIFF_CUDA_UNAVAILABLE && strstr(text, "Possible fixes") != NULL,
         "probe without a GPU says unavailable, with fixes", text);

  char tiny[8];
  status = probe(0, tiny, sizeof(tiny));
  expect(status == SCTDIFF_CUDA_UNAVAILABLE && strlen(tiny) == sizeof(tiny) - 1, "probe truncates its text", tiny);

  void* engine = (void*)1;
  status = create(NULL, 0, &engine, text, sizeof(text));
  expect(status == SCTDIFF_CUDA_BAD_ARGUMENT && engine == NULL, "create with no path", text);

  status = create(argv[2], 0, NULL, text, sizeof(text));
  expect(status == SCTDIFF_CUDA_BAD_ARGUMENT, "create with no out-pointer", text);

  engine = (void*)1;
  status = create("/nonexistent/weights.safetensors", 0, &engine, text, sizeof(text));
  expect(status == SCTDIFF_CUDA_MODEL_ERROR && engine == NULL && strstr(text, "/nonexistent/weights.safetensors") != NULL,
         "create with a missing file is a model error naming it", text);

  engine = (void*)1;
  status = create(argv[2], 0, &engine, text, sizeof(text));
  expect(status == SCTDIFF_CUDA_UNAVAILABLE && engine == NULL && strstr(text, "Possible fixes") != NULL,
         "create without a GPU says unavailable, with fixes", text);

  destroy(NULL);
  expect(1, "destroy(NULL) is a no-op", "");
  status = stats(NULL, text, sizeof(text));
  expect(status == SCTDIFF_CUDA_BAD_ARGUMENT, "stats of no engine", text);

  /* The batch engine: the same argument checks and status codes. */
  engine = (void*)1;
  status = create_batch(NULL, 0, &engine, text, sizeof(text));
  expect(status == SCTDIFF_CUDA_BAD_ARGUMENT && engine == NULL, "create_batch with no path", text);
  status = create_batch(argv[2], 0, NULL, text, sizeof(text));
  expect(status == SCTDIFF_CUDA_BAD_ARGUMENT, "create_batch with no out-pointer", text);
  engine = (void*)1;
  status = create_batch("/nonexistent/weights.safetensors", 0, &engine, text, sizeof(text));
  expect(status == SCTDIFF_CUDA_MODEL_ERROR && engine == NULL && strstr(text, "/nonexistent/weights.safetensors") != NULL,
         "create_batch with a missing file is a model error naming it", text);
  engine = (void*)1;
  status = create_batch(argv[2], 0, &engine, text, sizeof(text));
  expect(status == SCTDIFF_CUDA_UNAVAILABLE && engine == NULL && strstr(text, "Possible fixes") != NULL,
         "create_batch without a GPU says unavailable, with fixes", text);
  destroy_batch(NULL);
  expect(1, "destroy_batch(NULL) is a no-op", "");
  status = batch_stats(NULL, text, sizeof(text));
  expect(status == SCTDIFF_CUDA_BAD_ARGUMENT, "batch stats of no engine", text);

  printf("abi_check: %d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
