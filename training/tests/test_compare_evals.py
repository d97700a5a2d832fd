"""training/compare_evals.py: paired per-sequence AO differences and their bootstrap interval."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compare_evals import compare, main, paired_differences, read_scored_set, sign_test_p  # noqa: E402


def write_run(folder: Path, per_sequence: dict) -> Path:
    """A metrics.json shaped like `sct-diff eval --dataset got10k` writes it."""
    folder.mkdir(parents=True)
    rows = [{"name": n, "averageOverlap": ao, "successRate50": ao, "speedFps": 1.0, "length": 100}
            for n, ao in per_sequence.items()]
    ao = float(np.mean(list(per_sequence.values())))
    (folder / "metrics.json").write_text(json.dumps({
        "dataset": "got10k", "sequences": len(rows), "metrics": {"AO": ao},
        "result": {"protocol": "got10k", "averageOverlap": ao, "successRate50": ao, "successRate75": ao,
                   "successCurve": [], "speedFps": 1.0, "frameCount": 100 * len(rows), "perSequence": rows}}))
    return folder


def test_a_uniform_gain_is_resolved_and_its_interval_is_exact(tmp_path):
    base = write_run(tmp_path / "a", {f"s{i}": 0.5 + 0.01 * i for i in range(10)})
    cand = write_run(tmp_path / "b", {f"s{i}": 0.55 + 0.01 * i for i in range(10)})
    result = compare([(read_scored_set(base), read_scored_set(cand))])
    assert result.mean == pytest.approx(0.05)
    # Every resample of identical differences has the same mean.
    assert result.low == pytest.approx(0.05) and result.high == pytest.approx(0.05)
    assert result.verdict.startswith("candidate better")


def test_one_lost_sequence_among_small_gains_is_not_a_resolved_difference(tmp_path):
    base = {f"s{i}": 0.7 for i in range(20)}
    cand = dict(base, **{f"s{i}": 0.72 for i in range(19)})
    cand["s19"] = 0.1  # the target lost on one sequence
    result = compare([(read_scored_set(write_run(tmp_path / "a", base)),
                       read_scored_set(write_run(tmp_path / "b", cand)))])
    assert result.mean == pytest.approx((19 * 0.02 - 0.6) / 20)
    assert result.low < 0 < result.high
    assert result.verdict.startswith("no difference")


def test_the_sign_test_counts_which_way_sequences_moved_whatever_the_sizes(tmp_path):
    assert sign_test_p(10, 0) == pytest.approx(2 / 1024)  # 10 of 10: 2 * 0.5^10
    assert sign_test_p(0, 10) == pytest.approx(2 / 1024)
    assert sign_test_p(5, 5) == 1.0 and sign_test_p(0, 0) == 1.0
    assert sign_test_p(8, 2) == pytest.approx(2 * (45 + 10 + 1) / 1024)  # P(>= 8 of 10), both tails
    # The one-lost-sequence case: a consistent small gain that the mean's interval cannot resolve.
    base = {f"s{i}": 0.7 for i in range(20)}
    cand = dict(base, **{f"s{i}": 0.72 for i in range(19)})
    cand["s19"] = 0.1
    cand["s18"] = 0.7  # unchanged: left out of the sign test
    result = compare([(read_scored_set(write_run(tmp_path / "a", base)),
                       read_scored_set(write_run(tmp_path / "b", cand)))])
    assert (result.better, result.worse) == (18, 1)
    assert result.sign_test_p == pytest.approx(sign_test_p(18, 1)) and result.sign_test_p < 1e-3
    assert result.low < 0 < result.high


def test_pairs_pool_their_sequences_and_a_clear_loss_reads_as_worse(tmp_path):
    sets = []
    for k in range(2):
        base = {f"s{i}": 0.6 + 0.02 * (i % 3) for i in range(15)}
        cand = {n: v - 0.04 - 0.01 * (i % 2) for i, (n, v) in enumerate(base.items())}
        sets.append((read_scored_set(write_run(tmp_path / f"a{k}", base)),
                     read_scored_set(write_run(tmp_path / f"b{k}", cand))))
    result = compare(sets)
    assert result.differences.size == 30 and result.names[0].startswith("set 1 ")
    assert result.high < 0 and result.verdict.startswith("candidate worse")


def test_the_bootstrap_is_reproducible_for_a_seed(tmp_path):
    rng = np.random.default_rng(1)
    base = {f"s{i}": float(v) for i, v in enumerate(rng.uniform(0.3, 0.9, 25))}
    cand = {n: v + float(rng.normal(0, 0.1)) for n, v in base.items()}
    pair = [(read_scored_set(write_run(tmp_path / "a", base)), read_scored_set(write_run(tmp_path / "b", cand)))]
    assert (compare(pair, seed=3).low, compare(pair, seed=3).high) == (compare(pair, seed=3).low, compare(pair, seed=3).high)
    assert compare(pair, seed=3).low != compare(pair, seed=4).low


def test_different_sequences_or_a_foreign_file_are_refused_with_what_was_expected(tmp_path):
    a = read_scored_set(write_run(tmp_path / "a", {"s1": 0.5, "s2": 0.6}))
    b = read_scored_set(write_run(tmp_path / "b", {"s1": 0.5, "s3": 0.6}))
    with pytest.raises(ValueError, match="different sequences"):
        paired_differences(a, b)
    (tmp_path / "foreign.json").write_text(json.dumps({"metrics": {"AO": 0.5}}))
    with pytest.raises(ValueError, match="GOT-10k-protocol"):
        read_scored_set(tmp_path / "foreign.json")
    with pytest.raises(ValueError, match="not found"):
        read_scored_set(tmp_path / "missing")


def test_the_command_line_prints_the_report_and_fails_cleanly(tmp_path, capsys):
    a = write_run(tmp_path / "a", {"s1": 0.5, "s2": 0.6, "s3": 0.7})
    b = write_run(tmp_path / "b", {"s1": 0.6, "s2": 0.7, "s3": 0.8})
    assert main([str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "mean AO difference +0.100" in out and "better on 3 of 3" in out
    assert "better on 3, worse on 0 (two-sided sign test p = 0.25)" in out
    assert main([str(a), str(tmp_path / "missing")]) == 1
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(a)])
