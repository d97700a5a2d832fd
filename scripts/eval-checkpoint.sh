#!/usr/bin/env bash
# Score a training checkpoint on the validation set the way the model card does: export it as
# an F16 model (a stage-1 checkpoint as a single-frame model, which is how it tracks), run
# `sct-diff eval` (GOT-10k protocol, lib/eval) at each stride, and print AO / SR0.5 / SR0.75.
# A model file (.safetensors) is scored as it is.
#
#   scripts/eval-checkpoint.sh CHECKPOINT|MODEL [STRIDE ...]  # default strides: 1 for stage 1, 3 6 for stage 2
#
# Env: VALSET (training/valset), THREADS (1), OUT (runs/eval/<run>-<step>), PYTHON (/usr/bin/python3),
# LABEL (the printed lines' first column; default <run>-<step>).
# Needs `npm run build` (the CLI runs from dist/) and the valset (training/make_valset.py).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ $# -ge 1 ] || { sed -n 2,9p "$0" >&2; exit 2; }
checkpoint="$1"; shift
python="${PYTHON:-/usr/bin/python3}"
valset="${VALSET:-training/valset}"
[ -d "$valset" ] || { echo "no validation set at $valset: run $python training/make_valset.py" >&2; exit 1; }

# One export reads the checkpoint once; the stage and step come back from the file's record.
case "$checkpoint" in
  *.safetensors) exported="" model="$checkpoint" ;;
  *)
    scratch="$(mktemp -d)"; trap 'rm -rf "$scratch"' EXIT
    exported="$scratch/model.safetensors" model="$exported"
    "$python" training/export.py --checkpoint "$checkpoint" --clip-len stage --dtype F16 --out "$exported" >/dev/null
    ;;
esac
read -r stage step < <(PYTHONPATH=training "$python" -c '
import sys
from sctdiff.model_file import read_model_file, recorded_stages
last = (recorded_stages(read_model_file(sys.argv[1]).metadata) or [{}])[-1]
print(last.get("run", {}).get("stage", 1), last.get("checkpoint_step", 0))' "$model")
strides=("$@")
[ ${#strides[@]} -gt 0 ] || { if [ "$stage" = 1 ]; then strides=(1); else strides=(3 6); fi; }
name="$(basename "$(dirname "$checkpoint")")-$step"
out="${OUT:-runs/eval/$name}"
mkdir -p "$out"
if [ -n "$exported" ]; then
  model="$out/model.safetensors"
  mv "$exported" "$model"
fi
label="${LABEL:-$name}"
for stride in "${strides[@]}"; do
  node bin/sct-diff.js eval --dataset got10k --root "$valset" --model "$model" --stride "$stride" \
    --threads "${THREADS:-1}" --quiet --out "$out/stride-$stride" >/dev/null
  "$python" -c '
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
print("%s  stage %s  stride %s:  AO %.3f  SR0.5 %.3f  SR0.75 %.3f" % (*sys.argv[2:5], m["AO"], m["SR0.5"], m["SR0.75"]))' \
    "$out/stride-$stride/metrics.json" "$label" "$stage" "$stride"
done
