/**
 * The LaSOT protocol of the got10k toolkit (`ExperimentLaSOT.report`): OTB's success and
 * precision curves plus a normalized-precision curve over 51 thresholds linspace(0, 0.5, 51),
 * whose **mean** is the reported score (pytracking instead reports the curve at 0.20). Frames
 * whose ground truth contains NaN are dropped.
 */
import { got10kCenterError, got10kNormalizedCenterError } from './center-error.js';
import { got10kIou } from './iou.js';
import { fractionCurve, numpyLinspace, numpyMean, numpyMeanRows } from './numeric.js';
import {
  meanOtbCurves,
  otbCurves,
  otbOverallSpeed,
  otbScores,
  otbSequenceSpeed,
  withFirstFrameFromGroundTruth,
  type OtbCurves,
  type OtbScores,
} from './otb.js';
import type { Box, EvaluatedSequence } from './types.js';
import { sequenceName, validateSequences } from './validate.js';

/** The 51 normalized centre-error thresholds: numpy `linspace(0, 0.5, 51)`. */
export const LASOT_NORMALIZED_PRECISION_THRESHOLDS: readonly number[] = Object.freeze(numpyLinspace(0, 0.5, 51));

/** LaSOT curves: OTB's two plus the normalized-precision curve. */
export interface LasotCurves extends OtbCurves {
  /** Fraction of frames with normalized centre error ≤ each of {@link LASOT_NORMALIZED_PRECISION_THRESHOLDS}. */
  normalizedPrecisionCurve: number[];
}

/** LaSOT scores: OTB's plus the normalized precision (mean of its curve). */
export interface LasotScores extends OtbScores, LasotCurves {
  /** Normalized precision score: mean of the 51-point normalized-precision curve. */
  normalizedPrecision: number;
}

/** One sequence's LaSOT result. */
export interface LasotSequenceResult extends LasotScores {
  /** Sequence name. */
  name: string;
}

/** Result of {@link evaluateLasot}. */
export interface LasotResult extends LasotScores {
  /** Protocol tag. */
  protocol: 'lasot';
  /** Per-sequence results, in input order. */
  perSequence: LasotSequenceResult[];
}

/** got10k's LaSOT `_calc_curves`: success, precision and normalized-precision curves. */
export function lasotCurves(
  ious: readonly number[],
  centerErrors: readonly number[],
  normalizedCenterErrors: readonly number[],
): LasotCurves {
  return {
    ...otbCurves(ious, centerErrors),
    normalizedPrecisionCurve: fractionCurve(normalizedCenterErrors, LASOT_NORMALIZED_PRECISION_THRESHOLDS, 'lessEqual'),
  };
}

function lasotScores(curves: LasotCurves, speedFps: number | null): LasotScores {
  return {
    ...otbScores(curves, speedFps),
    normalizedPrecisionCurve: curves.normalizedPrecisionCurve,
    normalizedPrecision: numpyMean(curves.normalizedPrecisionCurve),
  };
}

function hasNaN(box: Box): boolean {
  return Number.isNaN(box.x) || Number.isNaN(box.y) || Number.isNaN(box.width) || Number.isNaN(box.height);
}

/**
 * Evaluate sequences with the LaSOT protocol of the got10k toolkit: first prediction :=
 * ground truth, frames with NaN ground truth dropped, unbounded IoU, centre error and
 * normalized centre error (divided by max(1, GT size)), curves averaged over sequences.
 * Visibility flags are not used, as in the toolkit.
 */
export function evaluateLasot(sequences: readonly EvaluatedSequence[]): LasotResult {
  validateSequences(sequences, { allowNaN: true });
  const speeds: number[] = [];
  const perSequence = sequences.map((sequence, index): LasotSequenceResult => {
    const gt = sequence.groundTruth;
    const predictions = withFirstFrameFromGroundTruth(sequence.predictions, gt);
    const kept = gt.map((_, i) => i).filter((i) => !hasNaN(gt[i] as Box));
    const ious = kept.map((i) => got10kIou(predictions[i] as Box, gt[i] as Box));
    const errors = kept.map((i) => got10kCenterError(predictions[i] as Box, gt[i] as Box));
    const normalized = kept.map((i) => got10kNormalizedCenterError(predictions[i] as Box, gt[i] as Box));
    const speed = otbSequenceSpeed(sequence.times);
    speeds.push(speed);
    return {
      name: sequenceName(sequence, index),
      ...lasotScores(lasotCurves(ious, errors, normalized), speed > 0 ? speed : null),
    };
  });
  const curves: LasotCurves = {
    ...meanOtbCurves(perSequence),
    normalizedPrecisionCurve: numpyMeanRows(
      perSequence.map((s) => s.normalizedPrecisionCurve),
      LASOT_NORMALIZED_PRECISION_THRESHOLDS.length,
    ),
  };
  return { protocol: 'lasot', ...lasotScores(curves, otbOverallSpeed(speeds)), perSequence };
}
