#!/usr/bin/env bash
# Builds a fuzzer with clang (libFuzzer + ASan + UBSan) and runs it.
# Usage: fuzz/run.sh [weights|config] [seconds=600] [workdir=/tmp/sct-diff-fuzz-<target>]
#   weights: WeightFile::from_bytes on arbitrary bytes (seeds: valid nano weight files)
#   config:  parse_model_config on arbitrary text (seeds: the nano config JSON)
# Needs Debian's clang and nlohmann-json3-dev (apt-get install clang nlohmann-json3-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-weights}"
seconds="${2:-600}"
work="${3:-/tmp/sct-diff-fuzz-$target}"
mkdir -p "$work/corpus" "$work/seeds" "$work/artifacts"

sources=(native/engine/weights.cc native/engine/file_identity.cc native/engine/model_spec.cc native/engine/config_json.cc)
clang++ -std=c++17 -O1 -g "${sources[@]}" fuzz/make_seeds.cc -o "$work/make_seeds"
"$work/make_seeds" "$work/seeds"
case "$target" in
  weights)
    max_len=65536  # covers the seeds (20-33 KB) so mutations reach the tensor data checks
    ;;
  config)
    max_len=4096
    # The config JSON inside a seed's metadata is the seed for the config parser.
    python3 - "$work/seeds" <<'PY'
import json, pathlib, struct, sys
seeds = pathlib.Path(sys.argv[1])
for path in list(seeds.glob("*.safetensors")):
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    config = json.loads(raw[8:8 + length])["__metadata__"]["config"]
    (seeds / "config.json").write_text(config)
    path.unlink()
PY
    ;;
  *) echo "unknown target $target (weights or config)" >&2; exit 2 ;;
esac
clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  "${sources[@]}" "fuzz/${target/weights/weights_header}_fuzzer.cc" -o "$work/fuzzer"

"$work/fuzzer" "$work/corpus" "$work/seeds" \
  -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1
