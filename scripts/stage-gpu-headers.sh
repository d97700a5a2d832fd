#!/usr/bin/env bash
# Copies the header-only libraries the CUDA build needs (nlohmann/json for the weight loader,
# Eigen for the consistency test's CPU reference) into node_modules/.cache/sctdiff-gpu-headers,
# so a GPU machine without those packages and without network can build (scripts/gpu-check.sh
# picks the folder up; carry it to the GPU machine, about 8 MB). Outside build/ because
# node-gyp rebuild wipes build/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=node_modules/.cache/sctdiff-gpu-headers
nlohmann=/usr/include/nlohmann
eigen=/usr/include/eigen3/Eigen
for dir in "$nlohmann" "$eigen"; do
  [ -d "$dir" ] || { echo "missing $dir (apt install nlohmann-json3-dev libeigen3-dev)" >&2; exit 1; }
done
rm -rf "$out"
mkdir -p "$out"
cp -rL "$nlohmann" "$out/nlohmann"
cp -rL "$eigen" "$out/Eigen"
echo "staged $(du -sh "$out" | cut -f1) of headers in $out"
