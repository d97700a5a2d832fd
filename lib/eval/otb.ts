/**
 * OTB-style one-pass evaluation of the got10k toolkit (`ExperimentOTB.report`, also used for
 * TColor128, NfS, UAV123, DTB70): the first prediction is replaced by the ground truth, then
 * per sequence a 21-point success curve (IoU > threshold) and a 51-point precision curve
 * (centre error ≤ threshold pixels) are averaged over sequences.
 */
import { got10kCenterError } from './center-error.js';
import { got10kIou } from './iou.js';
import { fractionCurve, numpyLinspace, numpyMean, numpyMeanRows, numpySum } from './numeric.js';
import type { Box, EvaluatedSequence } from './types.js';
import { copyBox, sequenceName, validateSequences } from './validate.js';

/** The 21 overlap thresholds of the success curve: numpy `linspace(0, 1, 21)`. */
export const OTB_SUCCESS_THRESHOLDS: readonly number[] = Object.freeze(numpyLinspace(0, 1, 21));

/** The 51 centre-error thresholds of the precision curve: 0, 1, …, 50 pixels. */
export const OTB_PRECISION_THRESHOLDS: readonly number[] = Object.freeze(Array.from({ length: 51 }, (_, i) => i));

/** Success and precision curves of one sequence (got10k `_calc_curves`). */
export interface OtbCurves {
  /** Fraction of frames with IoU > each of {@link OTB_SUCCESS_THRESHOLDS}. */
  successCurve: number[];
  /** Fraction of frames with centre error ≤ each of {@link OTB_PRECISION_THRESHOLDS}. */
  precisionCurve: number[];
}

/** Scores derived from curves, as the toolkit's report names them. */
export interface OtbScores extends OtbCurves {
  /** Success score (AUC): mean of the 21-point success curve. */
  successScore: number;
  /** Precision at 20 pixels: `precisionCurve[20]`. */
  precision: number;
  /** Success rate at IoU > 0.5: `successCurve[10]`. */
  successRate: number;
  /** Mean of 1 / time over positive times, or `null` without times (the toolkit prints -1). */
  speedFps: number | null;
}

/** One sequence's OTB result. */
export interface OtbSequenceResult extends OtbScores {
  /** Sequence name. */
  name: string;
}

/** Result of {@link evaluateOtb}. */
export interface OtbResult extends OtbScores {
  /** Protocol tag. */
  protocol: 'otb';
  /** Per-sequence results, in input order. */
  perSequence: OtbSequenceResult[];
}

/** got10k's `_calc_curves` for OTB: success (IoU > thr) and precision (error ≤ thr) curves. */
export function otbCurves(ious: readonly number[], centerErrors: readonly number[]): OtbCurves {
  return {
    successCurve: fractionCurve(ious, OTB_SUCCESS_THRESHOLDS, 'greater'),
    precisionCurve: fractionCurve(centerErrors, OTB_PRECISION_THRESHOLDS, 'lessEqual'),
  };
}

/** The ground truth's first box in place of the first prediction, as the toolkit does before scoring. */
export function withFirstFrameFromGroundTruth(predictions: readonly Box[], groundTruth: readonly Box[]): Box[] {
  return predictions.map((p, i) => copyBox(i === 0 ? (groundTruth[0] as Box) : p));
}

/** Per-sequence speed as the OTB report: mean of 1 / t over t > 0, or 0 when there is none. */
export function otbSequenceSpeed(times: readonly number[] | undefined): number {
  const positive = (times ?? []).filter((t) => t > 0);
  return positive.length > 0 ? numpyMean(positive.map((t) => 1 / t)) : 0;
}

/** Overall speed as the OTB report: sum of per-sequence speeds over the number of non-zero ones. */
export function otbOverallSpeed(speeds: readonly number[]): number | null {
  const measured = speeds.filter((s) => s !== 0).length;
  return measured > 0 ? numpySum(speeds) / measured : null;
}

/** The success and precision curves averaged over sequences (the toolkit's `np.mean(axis=0)`). */
export function meanOtbCurves(perSequence: readonly OtbCurves[]): OtbCurves {
  return {
    successCurve: numpyMeanRows(
      perSequence.map((s) => s.successCurve),
      OTB_SUCCESS_THRESHOLDS.length,
    ),
    precisionCurve: numpyMeanRows(
      perSequence.map((s) => s.precisionCurve),
      OTB_PRECISION_THRESHOLDS.length,
    ),
  };
}

/** Scores of a set of curves: AUC = mean of the success curve, precision at 20 px, success rate at 0.5. */
export function otbScores(curves: OtbCurves, speedFps: number | null): OtbScores {
  return {
    ...curves,
    successScore: numpyMean(curves.successCurve),
    precision: curves.precisionCurve[20] as number,
    successRate: curves.successCurve[10] as number,
    speedFps,
  };
}

/**
 * Evaluate sequences with the OTB protocol: first prediction := ground truth, unbounded
 * got10k IoU and centre error on every frame, per-sequence curves averaged over sequences.
 */
export function evaluateOtb(sequences: readonly EvaluatedSequence[]): OtbResult {
  validateSequences(sequences);
  const speeds: number[] = [];
  const perSequence = sequences.map((sequence, index): OtbSequenceResult => {
    const gt = sequence.groundTruth;
    const predictions = withFirstFrameFromGroundTruth(sequence.predictions, gt);
    const ious = predictions.map((p, i) => got10kIou(p, gt[i] as Box));
    const errors = predictions.map((p, i) => got10kCenterError(p, gt[i] as Box));
    const speed = otbSequenceSpeed(sequence.times);
    speeds.push(speed);
    return { name: sequenceName(sequence, index), ...otbScores(otbCurves(ious, errors), speed > 0 ? speed : null) };
  });
  return { protocol: 'otb', ...otbScores(meanOtbCurves(perSequence), otbOverallSpeed(speeds)), perSequence };
}
