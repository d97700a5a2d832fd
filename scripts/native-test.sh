#!/usr/bin/env bash
# Builds the native engine's C++ test programs with CMake and runs them:
#   cpu_ops_test     the CPU backend's ops against naive references (every GEMM path)
#   engine_test      the CPU engine's validation messages, thread/batch invariance, determinism
#   weight_cache_test  engines of one model share one set of weights (native/engine/weight_cache.h)
#   batch_engine_test  one engine serving several streams: batched encode/decode == lone engines
#   batch_picker_test  which queued requests the group's worker runs together (native/binding/batch_picker.h)
#   parity_goldens   the CPU engine against the committed PyTorch goldens (micro config)
# With --live it also writes fresh random tiny weights + reference outputs with the PyTorch
# reference (Debian's /usr/bin/python3 with torch) and checks parity on those.
#
#   scripts/native-test.sh [--live] [--threads N]
# Env: SCTDIFF_NATIVE_BUILD (build folder; default node_modules/.cache/sctdiff-native, outside
# build/ because node-gyp rebuild wipes build/), PYTHON (default /usr/bin/python3).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SCTDIFF_NATIVE_BUILD:-$root/node_modules/.cache/sctdiff-native}"
python="${PYTHON:-/usr/bin/python3}"
live=0
threads=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --live) live=1 ;;
    --threads) threads="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

cmake -S "$root/native" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j "$(nproc)" --target cpu_ops_test engine_test weight_cache_test batch_engine_test batch_picker_test parity_goldens

"$build/cpu_ops_test"
# The same ops on the GEMM paths of older CPUs: AVX2 without AVX-512, and the Eigen/SSE baseline.
SCTDIFF_CPU_NO_AVX512=1 "$build/cpu_ops_test"
SCTDIFF_CPU_BASELINE=1 "$build/cpu_ops_test"
"$build/engine_test" "$root/test/fixtures/goldens"
"$build/weight_cache_test" "$root/test/fixtures/goldens"
"$build/batch_engine_test" "$root/test/fixtures/goldens"
"$build/batch_picker_test"
"$build/parity_goldens" "$root/test/fixtures/goldens" "$threads"

if [[ $live -eq 1 ]]; then
  seed=$(( (RANDOM << 15) | RANDOM ))
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
  echo "live parity: fresh tiny weights, seed $seed"
  "$python" "$root/training/make_goldens.py" --seed "$seed" --out "$out" > /dev/null
  "$build/parity_goldens" "$out" "$threads"
fi
