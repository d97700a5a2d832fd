#!/usr/bin/env bash
# Compile check of the CUDA backend for machines without a GPU (CI): configures and builds
# native/cuda with nvcc for one architecture, then checks what a GPU-less host can check:
#  - libsctdiff_cuda.so exports the C ABI of native/cuda/sctdiff_cuda.h and nothing of ours else,
#  - it does not depend on libcudart.so or libcublas*.so (runtime static, cuBLASLt via dlopen),
#  - its C ABI returns the documented status codes and messages (tests/abi_check.c),
#  - the consistency test program and the benchmark exit 77 ("skipped") without a device.
#
#   scripts/check-cuda-compiles.sh [build-dir]   (default node_modules/.cache/sctdiff-cuda-check)
#
# Environment: CUDACXX (nvcc path), SCTDIFF_CUDA_CHECK_ARCH (default 90-real: sm_90 machine code
# only, the cheapest full compile; the release set is the CMake default), JOBS (default 2).
# Exit status: 0 compiled and checked, 77 skipped (no nvcc), anything else a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

nvcc_path="${CUDACXX:-$(command -v nvcc || true)}"
[ -n "$nvcc_path" ] || nvcc_path=/usr/local/cuda/bin/nvcc
if [ ! -x "$nvcc_path" ]; then
  echo "skipped: nvcc not found (set CUDACXX or install the CUDA toolkit)"
  exit 77
fi
# Outside build/: node-gyp rebuild wipes that folder.
if ! command -v cmake > /dev/null; then
  echo "skipped: cmake not found (apt install cmake)"
  exit 77
fi
build="${1:-node_modules/.cache/sctdiff-cuda-check}"
arch="${SCTDIFF_CUDA_CHECK_ARCH:-90-real}"

start=$(date +%s)
mkdir -p "$build"
cmake -S native/cuda -B "$build" -DCMAKE_CUDA_COMPILER="$nvcc_path" -DSCTDIFF_CUDA_ARCHITECTURES="$arch" \
  -DCMAKE_BUILD_TYPE=Release > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "${JOBS:-2}"
built=$(date +%s)

lib="$build/libsctdiff_cuda.so"
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort | tr '\n' ' ')
expected="sctdiff_cuda_abi_version sctdiff_cuda_batch_engine_stats sctdiff_cuda_create_batch_engine sctdiff_cuda_create_engine sctdiff_cuda_destroy_batch_engine sctdiff_cuda_destroy_engine sctdiff_cuda_engine_stats sctdiff_cuda_probe "
if [ "$exported" != "$expected" ]; then
  echo "FAIL: $lib exports [$exported], expected [$expected]"
  exit 1
fi
if ldd "$lib" | grep -E 'libcudart|libcublas' ; then
  echo "FAIL: $lib links a CUDA library dynamically (the runtime must be static, cuBLASLt dlopen'ed)"
  exit 1
fi

# The C ABI as the addon uses it (compiled as C; without a GPU it checks the error paths).
cc -std=c11 -O1 -Wall -Wextra -Werror native/cuda/tests/abi_check.c -o "$build/abi_check" -ldl
set +e
"$build/abi_check" "$lib" test/fixtures/goldens/weights.safetensors
status=$?
set -e
if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
  echo "FAIL: abi_check exited $status"
  exit 1
fi

if [ ! -e /dev/nvidia0 ]; then
  for program in sctdiff_cuda_consistency sctdiff_cuda_bench; do
    [ -x "$build/$program" ] || continue
    set +e
    if [ "$program" = sctdiff_cuda_bench ]; then
      output=$("$build/$program" --lib "$lib" --weights test/fixtures/goldens/weights.safetensors 2>&1)
    else
      output=$("$build/$program" 2>&1)
    fi
    status=$?
    set -e
    if [ "$status" -ne 77 ]; then
      echo "FAIL: $program without a GPU exited $status, expected 77 (skipped):"
      echo "$output"
      exit 1
    fi
    echo "$program without a GPU: $output"
  done
fi
echo "cuda compile check: ok (arch $arch, build $((built - start)) s)"
