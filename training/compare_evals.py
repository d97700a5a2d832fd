"""Compare two trackers scored on the same sequences: the paired AO difference and its spread.

  /usr/bin/python3 training/compare_evals.py BASELINE CANDIDATE [BASELINE2 CANDIDATE2 ...]

Each argument is the output folder of `sct-diff eval` (or its metrics.json). Arguments come in
pairs, one pair per sequence set (for example the validation set and the tuning set); every
pair must cover the same sequences. For each set it prints both AOs and how many sequences got
better, then pools the sets' sequences and prints the mean per-sequence AO difference with a
95% bootstrap interval (sequences resampled with replacement, fixed seed), how many
sequences moved each way with the exact two-sided sign test of that count, and the sequences
that moved most. The interval is about the mean (a few large swings can widen it); the sign
test is about how consistently the candidate is better, whatever the sizes.

Why: a set AO moves by a few points when one or two sequences flip between "tracked" and
"lost", which a 20- or 40-sequence set cannot tell from a real change (docs/training.md,
"The eighth CPU run"). Pairing by sequence and resampling sequences says whether a
difference is larger than that.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

RESAMPLES = 10_000


@dataclass(frozen=True)
class ScoredSet:
    """One `sct-diff eval` run: its set AO and each sequence's AO."""
    path: Path
    ao: float
    per_sequence: Dict[str, float]


@dataclass(frozen=True)
class Comparison:
    """The paired difference (candidate − baseline) over the pooled sequences."""
    names: List[str]
    per_set: List[np.ndarray]  # each pair's differences, in sorted name order
    differences: np.ndarray
    mean: float
    low: float
    high: float

    @property
    def better(self) -> int:
        return int((self.differences > 0).sum())

    @property
    def worse(self) -> int:
        return int((self.differences < 0).sum())

    @property
    def sign_test_p(self) -> float:
        return sign_test_p(self.better, self.worse)

    @property
    def verdict(self) -> str:
        if self.low > 0:
            return "candidate better (the interval is above 0)"
        if self.high < 0:
            return "candidate worse (the interval is below 0)"
        return "no difference these sequences can resolve (the interval contains 0)"


def sign_test_p(better: int, worse: int) -> float:
    """Exact two-sided sign test: the chance of a split at least this uneven if each changed
    sequence were equally likely to go either way (unchanged sequences are left out)."""
    n = better + worse
    if n == 0:
        return 1.0
    k = max(better, worse)
    tail = sum(math.comb(n, i) for i in range(k, n + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def read_scored_set(path: str | Path) -> ScoredSet:
    """Read the metrics.json of a GOT-10k-protocol `sct-diff eval` run; ValueError if it is not one."""
    path = Path(path)
    file = path / "metrics.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        raise ValueError(f"{file}: not found (pass an `sct-diff eval --out` folder or its metrics.json)") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{file}: not JSON ({error})") from None
    result = data.get("result") if isinstance(data, dict) else None
    rows = result.get("perSequence") if isinstance(result, dict) else None
    ao = result.get("averageOverlap") if isinstance(result, dict) else None
    if not isinstance(rows, list) or not isinstance(ao, (int, float)):
        raise ValueError(f"{file}: no result.averageOverlap and result.perSequence: "
                         "is it the metrics.json of a GOT-10k-protocol `sct-diff eval`?")
    per_sequence: Dict[str, float] = {}
    for row in rows:
        if not (isinstance(row, dict) and isinstance(row.get("name"), str)
                and isinstance(row.get("averageOverlap"), (int, float))):
            raise ValueError(f"{file}: a perSequence entry without a name and an averageOverlap: {row!r}")
        if row["name"] in per_sequence:
            raise ValueError(f"{file}: sequence {row['name']} appears twice")
        per_sequence[row["name"]] = float(row["averageOverlap"])
    return ScoredSet(path=file, ao=float(ao), per_sequence=per_sequence)


def paired_differences(baseline: ScoredSet, candidate: ScoredSet) -> Tuple[List[str], np.ndarray]:
    """Per-sequence candidate − baseline, in sorted name order; ValueError unless both hold the same sequences."""
    if baseline.per_sequence.keys() != candidate.per_sequence.keys():
        only_base = sorted(baseline.per_sequence.keys() - candidate.per_sequence.keys())
        only_cand = sorted(candidate.per_sequence.keys() - baseline.per_sequence.keys())
        raise ValueError(f"{baseline.path} and {candidate.path} score different sequences "
                         f"(only in the baseline: {only_base[:5]}, only in the candidate: {only_cand[:5]})")
    names = sorted(baseline.per_sequence)
    return names, np.array([candidate.per_sequence[n] - baseline.per_sequence[n] for n in names])


def compare(pairs: Sequence[Tuple[ScoredSet, ScoredSet]], seed: int = 0, resamples: int = RESAMPLES) -> Comparison:
    """Pool the pairs' sequences; the mean difference and its 95% percentile-bootstrap interval."""
    names: List[str] = []
    parts: List[np.ndarray] = []
    for index, (baseline, candidate) in enumerate(pairs):
        set_names, diffs = paired_differences(baseline, candidate)
        names += [f"set {index + 1} {n}" if len(pairs) > 1 else n for n in set_names]
        parts.append(diffs)
    differences = np.concatenate(parts) if parts else np.zeros(0)
    if differences.size == 0:
        raise ValueError("no sequences to compare")
    rng = np.random.default_rng(seed)
    means = differences[rng.integers(0, differences.size, (resamples, differences.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Comparison(names=names, per_set=parts, differences=differences, mean=float(differences.mean()),
                      low=float(low), high=float(high))


def report(pairs: Sequence[Tuple[ScoredSet, ScoredSet]], comparison: Comparison, movers: int = 3) -> str:
    lines = []
    for index, ((baseline, candidate), diffs) in enumerate(zip(pairs, comparison.per_set)):
        lines.append(f"set {index + 1}, {candidate.path} against {baseline.path}: AO {candidate.ao:.3f} against {baseline.ao:.3f} "
                     f"({candidate.ao - baseline.ao:+.3f}); better on {int((diffs > 0).sum())} of {diffs.size} sequences, "
                     f"worse on {int((diffs < 0).sum())}")
    d = comparison.differences
    lines.append(f"pooled {d.size} sequences: mean AO difference {comparison.mean:+.3f}, "
                 f"95% interval [{comparison.low:+.3f}, {comparison.high:+.3f}], median {float(np.median(d)):+.3f}; "
                 f"better on {comparison.better}, worse on {comparison.worse} "
                 f"(two-sided sign test p = {comparison.sign_test_p:.2g})")
    order = np.argsort(d)
    worst = ", ".join(f"{comparison.names[i]} {d[i]:+.3f}" for i in order[:movers])
    best = ", ".join(f"{comparison.names[i]} {d[i]:+.3f}" for i in order[::-1][:movers])
    lines.append(f"largest losses: {worst}")
    lines.append(f"largest gains: {best}")
    lines.append(comparison.verdict)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("runs", nargs="+", help="BASELINE CANDIDATE pairs: `sct-diff eval --out` folders or metrics.json")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    args = parser.parse_args(argv)
    if len(args.runs) % 2:
        parser.error("runs come in BASELINE CANDIDATE pairs; got an odd number")
    try:
        sets = [read_scored_set(p) for p in args.runs]
        pairs = list(zip(sets[0::2], sets[1::2]))
        print(report(pairs, compare(pairs, seed=args.seed)))
    except ValueError as error:
        print(f"compare_evals.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
