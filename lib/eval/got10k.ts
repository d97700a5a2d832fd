/**
 * The GOT-10k protocol of the got10k toolkit (`ExperimentGOT10k.report` / `_evaluate`):
 * frame 0 (the initialization frame) is excluded, only frames whose target is visible
 * (cover > 0) are kept, IoUs are bounded by the image and pooled over all frames of all
 * sequences; AO is their mean and SR the fraction strictly above a threshold.
 */
import { got10kIou } from './iou.js';
import { fractionCurve, fractionWhere, numpyLinspace, numpyMean } from './numeric.js';
import type { EvaluatedSequence } from './types.js';
import { sequenceName, validateSequences } from './validate.js';

/** The 101 overlap thresholds of GOT-10k's success curve: numpy `linspace(0, 1, 101)`. */
export const GOT10K_SUCCESS_THRESHOLDS: readonly number[] = Object.freeze(numpyLinspace(0, 1, 101));

/** AO, success rates, success curve and speed of a pool of IoUs, as got10k's `_evaluate`. */
export interface Got10kSummary {
  /** Average overlap: mean IoU (NaN when there are no frames, as numpy). */
  averageOverlap: number;
  /** Fraction of frames with IoU > 0.5 (strict). */
  successRate50: number;
  /** Fraction of frames with IoU > 0.75 (strict): the success curve at index 75, as the GOT-10k server reports. */
  successRate75: number;
  /** Success curve: fraction of frames with IoU > each of {@link GOT10K_SUCCESS_THRESHOLDS}. */
  successCurve: number[];
  /** Mean of 1 / time over frames with a positive time; `null` without times (the toolkit prints -1). */
  speedFps: number | null;
}

/** One sequence's share of a GOT-10k evaluation (the toolkit's `seq_wise` entry). */
export interface Got10kSequenceResult {
  /** Sequence name. */
  name: string;
  /** Mean IoU over this sequence's kept frames. */
  averageOverlap: number;
  /** Fraction of this sequence's kept frames with IoU > 0.5. */
  successRate50: number;
  /** This sequence's mean 1 / time, or `null` without positive times. */
  speedFps: number | null;
  /** Number of frames after the first (the toolkit's `length`, visible or not). */
  length: number;
}

/** Result of {@link evaluateGot10k}: the pooled summary plus per-sequence numbers. */
export interface Got10kResult extends Got10kSummary {
  /** Protocol tag. */
  protocol: 'got10k';
  /** Number of frames pooled into the summary. */
  frameCount: number;
  /** Per-sequence numbers, in input order. */
  perSequence: Got10kSequenceResult[];
}

/**
 * Summarize pooled IoUs and per-frame times the way got10k's `_evaluate` does. Times that are
 * NaN or ≤ 0 are dropped first, as the toolkit does when it reads a time file.
 */
export function summarizeGot10k(ious: readonly number[], times: readonly number[] = []): Got10kSummary {
  const successCurve = fractionCurve(ious, GOT10K_SUCCESS_THRESHOLDS, 'greater');
  const positiveTimes = times.filter((t) => t > 0);
  return {
    averageOverlap: numpyMean(ious),
    successRate50: fractionWhere(ious, (iou) => iou > 0.5),
    successRate75: successCurve[75] as number,
    successCurve,
    speedFps: positiveTimes.length > 0 ? numpyMean(positiveTimes.map((t) => 1 / t)) : null,
  };
}

/** Which frames of a sequence count in GOT-10k: frames 1.. with cover > 0 (or visible when only that is given). */
function keptFrames(sequence: EvaluatedSequence): number[] {
  const kept: number[] = [];
  for (let i = 1; i < sequence.groundTruth.length; i++) {
    const cover = sequence.cover?.[i];
    const visible = sequence.visible?.[i];
    const keep = cover !== undefined ? cover > 0 : visible !== undefined ? visible : true;
    if (keep) kept.push(i);
  }
  return kept;
}

/**
 * Evaluate sequences with the GOT-10k protocol. Per sequence: frame 0 is dropped, IoU is
 * got10k's `rect_iou` bounded by `imageSize` (when given), and only frames with `cover > 0`
 * are kept (falling back to `visible`, then to all frames, when `cover` is absent). The kept
 * IoUs and the positive times of all sequences are pooled and summarized.
 *
 * Repetitions (the toolkit runs 3 for non-deterministic trackers): pass each repetition as
 * its own entry, ordered by sequence then repetition, with `times` on one entry per sequence
 * (the toolkit reads one time file per sequence); the pooled numbers then equal the toolkit's.
 */
export function evaluateGot10k(sequences: readonly EvaluatedSequence[]): Got10kResult {
  validateSequences(sequences);
  const pooledIous: number[] = [];
  const pooledTimes: number[] = [];
  const perSequence = sequences.map((sequence, index): Got10kSequenceResult => {
    const ious = keptFrames(sequence).map((i) =>
      got10kIou(sequence.predictions[i]!, sequence.groundTruth[i]!, sequence.imageSize),
    );
    const times = (sequence.times ?? []).filter((t) => t > 0);
    // A loop, not push(...spread): a spread of a very long sequence would overflow the call stack.
    for (const iou of ious) pooledIous.push(iou);
    for (const time of times) pooledTimes.push(time);
    const summary = summarizeGot10k(ious, times);
    return {
      name: sequenceName(sequence, index),
      averageOverlap: summary.averageOverlap,
      successRate50: summary.successRate50,
      speedFps: summary.speedFps,
      length: sequence.groundTruth.length - 1,
    };
  });
  return { protocol: 'got10k', ...summarizeGot10k(pooledIous, pooledTimes), frameCount: pooledIous.length, perSequence };
}
