#!/usr/bin/env bash
# Everything the CUDA backend needs checked on a GPU machine, in one call (node is not needed):
#   1. build native/cuda with CMake (sm_90 by default: SCTDIFF_CUDA_ARCH),
#   2. the backend-consistency program (every op, the whole engine and the batch engine vs the
#      CPU backend) on
#      the committed micro weights and on random tiny and B256 weights from training/export.py,
#   3. compute-sanitizer memcheck and racecheck over the consistency program (micro weights),
#   4. the step benchmark (B256; 1, 4 and 16 streams, as separate engines and batched on one
#      batch engine) and the PyTorch reference in the same run,
# then prints a short table. Logs go to $OUT/gpu-check (or build/gpu-check/logs without $OUT).
#
#   scripts/gpu-check.sh [--quick] [--skip-consistency] [--skip-sanitizers] [--skip-bench] [--skip-torch]
#
# The device tool allows 10 minutes per call: the full run may not fit, so split it, e.g.
# `--skip-bench` then `--skip-consistency --skip-sanitizers` (the build is incremental).
#
# From a development machine with the project's device tool: first run
# scripts/stage-gpu-headers.sh here, then run this script there with the staged folder carried:
#   run(command="scripts/gpu-check.sh", carry=["node_modules/.cache/sctdiff-gpu-headers"])
#
# --quick: micro weights only, no sanitizers, a short benchmark. Exit status: 0 when every stage
# that ran passed, 1 otherwise, 77 without a GPU. Env: PYTHON (default: /opt/torch/.venv/bin/python
# if present, else /usr/bin/python3), SCTDIFF_CUDA_ARCH (default 90-real), JOBS (default nproc),
# BENCH_FRAMES (a raw RGB24 file of 640x360 frames for the benchmark; synthetic frames otherwise).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

quick=0 consistency=1 sanitizers=1 bench=1 torch_side=1
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1; sanitizers=0 ;;
    --skip-consistency) consistency=0 ;;
    --skip-sanitizers) sanitizers=0 ;;
    --skip-bench) bench=0 ;;
    --skip-torch) torch_side=0 ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done

logs="${OUT:+$OUT/gpu-check}"
logs="${logs:-$root/build/gpu-check/logs}"
build="$root/build/gpu-check/cmake"
models="$root/build/gpu-check/models"
mkdir -p "$logs" "$build" "$models"
python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x /opt/torch/.venv/bin/python ]; then python=/opt/torch/.venv/bin/python; else python=/usr/bin/python3; fi
fi
export PATH="/usr/local/cuda/bin:$PATH"

results=()   # "stage|status|detail"
failed=0
record() {  # stage status detail
  results+=("$1|$2|$3")
  [ "$2" = "FAIL" ] && failed=1
  echo "== $1: $2 $3"
}

if ! nvidia-smi -L > "$logs/nvidia-smi.log" 2>&1; then
  echo "skipped: no GPU (nvidia-smi -L failed; see $logs/nvidia-smi.log)"
  exit 77
fi
cat "$logs/nvidia-smi.log"

# 1. Build. Headers the GPU machine may lack (no network there): staged by
# scripts/stage-gpu-headers.sh on the development machine and carried along.
headers="$root/node_modules/.cache/sctdiff-gpu-headers"
third_party=()
[ -d "$headers" ] && third_party=(-DSCTDIFF_THIRD_PARTY_INCLUDE="$headers")
start=$(date +%s)
if cmake -S native/cuda -B "$build" -DSCTDIFF_CUDA_ARCHITECTURES="${SCTDIFF_CUDA_ARCH:-90-real}" \
     -DCMAKE_BUILD_TYPE=Release "${third_party[@]}" > "$logs/build.log" 2>&1 &&
   cmake --build "$build" -j "${JOBS:-$(nproc)}" >> "$logs/build.log" 2>&1; then
  record build ok "$(( $(date +%s) - start )) s"
else
  record build FAIL "see build.log"
  tail -40 "$logs/build.log"
  exit 1
fi

# Weights: the committed micro file, plus random tiny and B256 from the PyTorch reference.
weights=("test/fixtures/goldens/weights.safetensors")
b256=""
if [ "$quick" = 0 ] && { [ "$consistency" = 1 ] || [ "$bench" = 1 ]; }; then
  for config in tiny b256; do
    file="$models/$config-random.safetensors"
    if [ -f "$file" ] || "$python" training/export.py --config "$config" --random-seed 0 --out "$file" \
         > "$logs/export-$config.log" 2>&1; then
      weights+=("$file")
      [ "$config" = b256 ] && b256="$file"
    else
      record "export $config" FAIL "see export-$config.log (python: $python)"
    fi
  done
fi

# 2. Consistency
[ "$consistency" = 1 ] || weights=()
for file in "${weights[@]}"; do
  label=$(basename "$file" .safetensors)
  [ "$label" = weights ] && label=micro  # the committed fixture
  name="consistency $label"
  log="$logs/$(echo "$name" | tr ' ' '-').log"
  "$build/sctdiff_cuda_consistency" "$file" > "$log" 2>&1
  status=$?
  summary=$(grep -E '^consistency:' "$log" | tail -1)
  tokens=$(grep -E 'engine tokens' "$log" | tail -1 | sed -E 's/^.*engine tokens +//')
  if [ $status -eq 0 ]; then
    record "$name" ok "$summary; tokens $tokens"
  elif [ $status -eq 77 ]; then
    record "$name" skipped "$(head -1 "$log")"
  else
    record "$name" FAIL "$summary (see $(basename "$log"))"
    grep FAIL "$log" | head -20
  fi
done

# 3. Sanitizers (eager and graph paths both run inside the program)
if [ "$sanitizers" = 1 ]; then
  if command -v compute-sanitizer > /dev/null; then
    for tool in memcheck racecheck; do
      log="$logs/sanitizer-$tool.log"
      extra=() args=(test/fixtures/goldens/weights.safetensors)
      [ "$tool" = memcheck ] && extra=(--leak-check full)
      [ "$tool" = racecheck ] && args=(--ops-only)  # shared-memory races live in the kernels
      timeout 240 compute-sanitizer --tool "$tool" "${extra[@]}" --error-exitcode 9 \
        "$build/sctdiff_cuda_consistency" "${args[@]}" > "$log" 2>&1
      status=$?
      line=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$log" | tail -1)
      if [ $status -eq 0 ]; then record "sanitizer $tool" ok "$line"; else record "sanitizer $tool" FAIL "exit $status; $line"; fi
    done
  else
    record sanitizers skipped "compute-sanitizer not on PATH"
  fi
fi

# 4. Benchmark: engine and PyTorch in the same run.
if [ "$bench" = 1 ]; then
  bench_weights="${b256:-test/fixtures/goldens/weights.safetensors}"
  steps=200 warmup=30 streams=1,4,16
  [ "$quick" = 1 ] && steps=50 warmup=10 streams=1,4
  frames=()
  [ -n "${BENCH_FRAMES:-}" ] && frames=(--frames "$BENCH_FRAMES" --size 640x360)
  if "$build/sctdiff_cuda_bench" --lib "$build/libsctdiff_cuda.so" --weights "$bench_weights" \
       --streams "$streams" --steps "$steps" --warmup "$warmup" "${frames[@]}" > "$logs/bench-engine.log" 2>&1; then
    while read -r line; do
      record "engine $(basename "$bench_weights" .safetensors)" ok "$line"
    done < <(grep -E '^\{"streams"' "$logs/bench-engine.log" | sed -E 's/, "engine0".*$/}/')
  else
    record "bench engine" FAIL "see bench-engine.log"
    tail -20 "$logs/bench-engine.log"
  fi
  # The opt-in tensor-core attention, for the decision to make it the default (NOTES.md).
  if SCTDIFF_CUDA_ATTENTION=mma "$build/sctdiff_cuda_bench" --lib "$build/libsctdiff_cuda.so" --weights "$bench_weights" \
       --streams "$streams" --steps "$steps" --warmup "$warmup" "${frames[@]}" > "$logs/bench-engine-mma.log" 2>&1; then
    while read -r line; do
      record "engine+mma $(basename "$bench_weights" .safetensors)" ok "$line"
    done < <(grep -E '^\{"streams"' "$logs/bench-engine-mma.log" | sed -E 's/, "engine0".*$/}/')
  else
    record "bench engine mma" FAIL "see bench-engine-mma.log"
  fi
  if [ "$torch_side" = 1 ] && [ -n "$b256" ]; then
    if timeout 540 "$python" bench/gpu/pytorch_reference.py --streams "$streams" > "$logs/bench-pytorch.log" 2>&1; then
      while read -r line; do record "pytorch b256" ok "$line"; done < <(grep -E '^\{"side"' "$logs/bench-pytorch.log")
    else
      record "bench pytorch" FAIL "see bench-pytorch.log"
      tail -20 "$logs/bench-pytorch.log"
    fi
  fi
fi

echo
echo "==================== gpu-check summary ===================="
printf '%-28s %-8s %s\n' stage status detail
for row in "${results[@]}"; do
  IFS='|' read -r stage status detail <<< "$row"
  printf '%-28s %-8s %s\n' "$stage" "$status" "$detail"
done
echo "logs: $logs"
echo "targets (H100, B256): step <= 1.0 ms and >= 3.4x PyTorch at 1 stream; >= 5000 FPS at 16 streams; decoder <= 0.3 ms"
exit $failed
