#!/usr/bin/env bash
# Builds the weight-header fuzzer with clang (libFuzzer + ASan + UBSan) and runs it.
# Usage: fuzz/run.sh [seconds=600] [workdir=/tmp/sct-diff-fuzz]
# Needs Debian's clang and nlohmann-json3-dev (apt-get install clang nlohmann-json3-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
work="${2:-/tmp/sct-diff-fuzz}"
mkdir -p "$work/corpus" "$work/seeds" "$work/artifacts"

sources=(native/engine/weights.cc native/engine/model_spec.cc native/engine/config_json.cc)
clang++ -std=c++17 -O1 -g "${sources[@]}" fuzz/make_seeds.cc -o "$work/make_seeds"
"$work/make_seeds" "$work/seeds"
clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  "${sources[@]}" fuzz/weights_header_fuzzer.cc -o "$work/weights_header_fuzzer"

# -max_len covers the seeds (a few KB) so mutations can reach the tensor data checks.
"$work/weights_header_fuzzer" "$work/corpus" "$work/seeds" \
  -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1
