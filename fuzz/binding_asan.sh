#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UBSan (g++) and runs fuzz/binding_lifecycle.mjs on a
# nano model, to catch use-after-free and races in the binding's thread/teardown handling.
# Usage: fuzz/binding_asan.sh [workdir=/tmp/sct-diff-asan]   (takes minutes: compiles everything)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/sct-diff-asan}"
mkdir -p "$work/seeds"
g++ -std=c++17 -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -shared -fPIC -pthread \
  -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED \
  -I"$(dirname "$(command -v node)")/../include/node" -Inode_modules/node-addon-api -I/usr/include/eigen3 \
  native/engine/*.cc native/cpu/*.cc native/binding/*.cc -o "$work/sct_diff.node"
g++ -std=c++17 -O1 native/engine/weights.cc native/engine/file_identity.cc native/engine/model_spec.cc native/engine/config_json.cc \
  fuzz/make_seeds.cc -o "$work/make_seeds"
"$work/make_seeds" "$work/seeds"
# Node itself does not free everything at exit, so leak detection is off; ASan still reports
# every invalid access.
LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)" \
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1 SCT_DIFF_ADDON="$work/sct_diff.node" \
  node --expose-gc fuzz/binding_lifecycle.mjs "$work/seeds/nano_f32.safetensors"
