#!/usr/bin/env bash
# Apply the ship rule of docs/training.md to a candidate model: score it on the validation set
# (strides 3 and 6) and on the 120-sequence tuning set (stride 3), then, given a baseline scored
# the same way, compare the two with training/compare_evals.py and print the rule's verdict:
# ship only if the candidate beats the baseline on the validation set AND on the tuning set AND
# the 95% interval of the mean per-sequence AO difference over all their sequences excludes 0.
#
#   scripts/score-candidate.sh MODEL NAME [BASELINE_NAME]
#
# MODEL: a training checkpoint (.pt, exported F16 first, as the model card does) or a model file
# (.safetensors, e.g. models/sctdiff-tiny.safetensors for the shipped one). Scores go to
# runs/eval/score-NAME/{val,tune}/stride-S; BASELINE_NAME names an earlier call's NAME.
# Exit status: 0 when the rule says ship, 3 when it does not, 1 on errors; 0 without a baseline.
# Env: VALSET (training/valset), TUNESET (training/tuneset-120; made with make_valset.py --seed 777
# when absent), THREADS (1), PYTHON (/usr/bin/python3), EVAL_ROOT (runs/eval).
# About 20 minutes on one idle core of the 2-vCPU machine for 140 sequences of 100 frames.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ $# -ge 2 ] || { sed -n 2,16p "$0" >&2; exit 2; }
model="$1" name="$2" baseline="${3:-}"
python="${PYTHON:-/usr/bin/python3}"
valset="${VALSET:-training/valset}"
tuneset="${TUNESET:-training/tuneset-120}"
evals="${EVAL_ROOT:-runs/eval}"
out="$evals/score-$name"
[ -f "$model" ] || { echo "score-candidate: no model at $model" >&2; exit 1; }
[ -d "$valset" ] || { echo "score-candidate: no validation set at $valset: run $python training/make_valset.py" >&2; exit 1; }
if [ ! -d "$tuneset" ]; then
  echo "score-candidate: making the tuning set at $tuneset (120 sequences, seed 777)" >&2
  "$python" training/make_valset.py --out "$tuneset" --sequences 120 --seed 777 >/dev/null
fi
if [ -n "$baseline" ] && [ ! -d "$evals/score-$baseline" ]; then
  echo "score-candidate: no scores for the baseline at $evals/score-$baseline: run this script on it first" >&2
  exit 1
fi

# A checkpoint is exported once, by the first call; the second scores that file.
OUT="$out/val" VALSET="$valset" LABEL="$name val" scripts/eval-checkpoint.sh "$model" 3 6
case "$model" in *.safetensors) scored="$model" ;; *) scored="$out/val/model.safetensors" ;; esac
OUT="$out/tune" VALSET="$tuneset" LABEL="$name tune" scripts/eval-checkpoint.sh "$scored" 3

[ -n "$baseline" ] || exit 0
base="$evals/score-$baseline"
PYTHONPATH=training "$python" - "$base" "$out" <<'EOF'
import sys
from pathlib import Path

from compare_evals import compare, read_scored_set, report

base, cand = (Path(p) for p in sys.argv[1:3])
pairs = [(read_scored_set(base / s / "stride-3" / "metrics.json"), read_scored_set(cand / s / "stride-3" / "metrics.json"))
         for s in ("val", "tune")]
comparison = compare(pairs)
print(report(pairs, comparison))
beats = [c.ao > b.ao for b, c in pairs]
ship = all(beats) and comparison.low > 0
print(f"ship rule: valset {'better' if beats[0] else 'not better'}, tuning set {'better' if beats[1] else 'not better'}, "
      f"interval {'above 0' if comparison.low > 0 else 'not above 0'} -> {'SHIP' if ship else 'do not ship'}")
sys.exit(0 if ship else 3)
EOF
