#!/usr/bin/env bash
# Train the tiny model on a lent GPU machine in one call, sized to a time budget, and hand back
# what a later session needs: the exported model, both stages' logs and a portable stage-2
# checkpoint (docs/training.md, "Training on a GPU").
#
#   scripts/gpu-train.sh [--stage1-minutes M] [--stage2-minutes M] [--init FILE|none]
#
# The device tool gives a session 15 minutes of machine time and a command at most 10, so the
# defaults (5.5 + 2.5 minutes of training, ~1 minute of probes and export) fit one call:
#   run(command="scripts/gpu-train.sh", carry=["training/photos/cache"], timeout_s=590)
#
# Each stage starts with a short probe run that measures samples per second on this machine;
# the stage then resumes from the probe with --steps sized so that the run ends by steps (the
# LR drop at 80 % of the steps happens) just inside its minutes. Stage 1 starts from --init
# (default: models/sctdiff-tiny.safetensors when it exists, so GPU time continues the shipped
# model instead of starting over; `none` starts from scratch).
#
# Writes under $OUT (or runs/gpu-train/out): sctdiff-tiny.safetensors (F16, with the training
# record), stage1.jsonl, stage2.jsonl, s2/ (portable checkpoint: last.pt.part*, index).
# Env: PYTHON, MODEL (tiny), BATCH1 (64), BATCH2 (16), WORKERS (nproc - 2), CLIP_LENGTHS ("4 5 6"),
# AUX_CENTER (1: stage 1's centre-heatmap loss weight, 0 is the paper's objective),
# ENCODER_INIT (trunc_normal or mimetic; only when stage 1 starts from scratch).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

stage1_minutes=5.5 stage2_minutes=2.5 init=""
while [ $# -gt 0 ]; do
  case "$1" in
    --stage1-minutes) stage1_minutes="$2"; shift 2 ;;
    --stage2-minutes) stage2_minutes="$2"; shift 2 ;;
    --init) init="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x /opt/torch/.venv/bin/python ]; then python=/opt/torch/.venv/bin/python; else python=python3; fi
fi
model="${MODEL:-tiny}"
batch1="${BATCH1:-64}" batch2="${BATCH2:-16}"
workers="${WORKERS:-$(( $(nproc) > 3 ? $(nproc) - 2 : 1 ))}"
clip_lengths="${CLIP_LENGTHS:-4 5 6}"
# From scratch the encoder gets almost no gradient through a decoder that answers the prior box
# (docs/training.md): stage 1 adds the centre-heatmap loss and centres targets within +-1 size.
aux_center="${AUX_CENTER:-1}" encoder_init="${ENCODER_INIT:-trunc_normal}"
out="${OUT:-$root/runs/gpu-train/out}"
runs="$root/runs/gpu-train"
mkdir -p "$out" "$runs"
export PYTHONUNBUFFERED=1

# The GPU machine has none of the Debian photo packages: the cache must come along (carry it).
photos=$(find training/photos/cache -type f -not -name "*.json" 2>/dev/null | wc -l)
if [ "$photos" -lt 40 ]; then
  echo "training/photos/cache holds $photos photos: build it on the development machine with" >&2
  echo "  PYTHONPATH=training /usr/bin/python3 -m sctdiff.photos build" >&2
  echo "and carry it: run(..., carry=[\"training/photos/cache\"])" >&2
  exit 1
fi
# Continue the shipped model (a single-frame stage-1 export is widened to the run's clip length;
# a stage-2 export keeps its rows through stage 1, but stage 2 then restarts rows 1-5 from row 0
# of the stage-1 checkpoint, as it does for every stage-1 start: see initial_weights).
if [ -z "$init" ] && [ -f models/sctdiff-tiny.safetensors ] && [ "$model" = tiny ]; then init=models/sctdiff-tiny.safetensors; fi
[ "$init" = none ] && init=""
"$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'

# Minutes as seconds, and the last logged training rate of a run.
seconds() { "$python" -c "print(int(float('$1') * 60))"; }
last_rate() { "$python" -c "
import json, sys
rates = [r['samples_per_s'] for r in map(json.loads, open(sys.argv[1])) if 'samples_per_s' in r]
print(rates[-1] if rates else 0)" "$1"; }
last_step() { "$python" -c "
import json, sys
steps = [r['step'] for r in map(json.loads, open(sys.argv[1])) if 'loss' in r]
print(steps[-1] if steps else 0)" "$1"; }

# run_stage STAGE DIR BATCH MINUTES EXTRA...  (the probe takes a quarter of MINUTES, at most 45 s)
run_stage() {
  local stage=$1 dir=$2 batch=$3 minutes=$4
  shift 4
  rm -rf "$dir"
  local start probe; start=$(date +%s)
  probe=$("$python" -c "print(min(0.75, float('$minutes') / 4))")
  "$python" training/train.py --stage "$stage" --model "$model" --out-dir "$dir" --steps 1000000 \
    --batch-size "$batch" --workers "$workers" --log-every 5 --eval-every 0 --max-minutes "$probe" \
    --save-every-s 100000 "$@" > "$dir.probe.log" 2>&1 || { tail -30 "$dir.probe.log"; return 1; }
  local rate done_steps left steps
  rate=$(last_rate "$dir/log.jsonl")
  done_steps=$(last_step "$dir/log.jsonl")
  left=$(( $(seconds "$minutes") - ($(date +%s) - start) ))
  steps=$("$python" -c "print(max($done_steps + 10, $done_steps + int($rate * max($left - 20, 0) / $batch)))")
  echo "stage $stage: probe ${done_steps} steps at ${rate} samples/s; ${left} s left -> --steps ${steps}"
  "$python" training/train.py --out-dir "$dir" --resume auto --steps "$steps" \
    --max-minutes "$("$python" -c "print(max($left, 30) / 60)")" --log-every 20 \
    --eval-every "$(( steps / 3 > 0 ? steps / 3 : 1 ))" --save-every-s 60 > "$dir.log" 2>&1 ||
    { tail -30 "$dir.log"; return 1; }
  tail -3 "$dir.log"
}

s1="$runs/s1" s2="$runs/s2"
init_args=()
[ -n "$init" ] && init_args=(--init-from "$init")
run_stage 1 "$s1" "$batch1" "$stage1_minutes" --lr 4e-4 --warmup-steps 100 --high-t-fraction 0.7 \
  --aux-center-weight "$aux_center" --center-jitter 2 --encoder-init "$encoder_init" "${init_args[@]}"
# Does stage 1's decoder read the image? (pred_std near 0 and iou near reference_iou: it does not.)
"$python" training/probe_image_use.py "$s1/last.pt"  # stdout only: $OUT already holds 8 files
# shellcheck disable=SC2086  # clip lengths are words on purpose
run_stage 2 "$s2" "$batch2" "$stage2_minutes" --lr 1e-4 --warmup-steps 20 --high-t-fraction 0.5 \
  --init-from "$s1/last.pt" --clip-lengths $clip_lengths --portable-dir "$out/s2"

"$python" training/export.py --checkpoint "$s2/last.pt" --history "$s1/last.pt" --dtype F16 \
  --out "$out/sctdiff-$model.safetensors"
cp "$s1/log.jsonl" "$out/stage1.jsonl"
cp "$s2/log.jsonl" "$out/stage2.jsonl"
ls -la "$out" "$out/s2"
