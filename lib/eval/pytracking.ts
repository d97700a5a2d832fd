/**
 * pytracking's analysis (`extract_results.py` + `plot_results.py`, also copied into OSTrack):
 * per sequence, zero-size predictions copy the previous one, the first prediction becomes the
 * ground truth, invalid frames (ground truth not strictly positive, or target not visible)
 * count as failures yet stay in the denominator; curves are kept in float32 and the scores are
 * percentages (× 100) averaged over sequences.
 */
import { InvalidArgumentError } from '../errors.js';
import {
  pytrackingCenterError,
  pytrackingNormalizedCenterError,
} from './center-error.js';
import { pytrackingIou } from './iou.js';
import { countCurve, torchMean, torchMeanOverRows } from './numeric.js';
import type { Box, EvaluatedSequence } from './types.js';
import { copyBox, sequenceName, validateSequences } from './validate.js';

/** The 21 overlap thresholds: torch `arange(0, 1.05, 0.05)` (index × 0.05). */
export const PYTRACKING_OVERLAP_THRESHOLDS: readonly number[] = Object.freeze(
  Array.from({ length: 21 }, (_, i) => i * 0.05),
);

/** The 51 centre-error thresholds: 0, 1, …, 50 pixels. */
export const PYTRACKING_CENTER_THRESHOLDS: readonly number[] = Object.freeze(Array.from({ length: 51 }, (_, i) => i));

/** The 51 normalized centre-error thresholds: torch `arange(0, 51) / 100`. */
export const PYTRACKING_NORMALIZED_CENTER_THRESHOLDS: readonly number[] = Object.freeze(
  Array.from({ length: 51 }, (_, i) => i / 100),
);

/** Options of {@link evaluatePytracking}. */
export interface PytrackingOptions {
  /**
   * Dataset-specific handling, as pytracking's `calc_seq_err_robust`:
   * - `'lasot'`: the centre and normalized centre errors of frames whose target is not visible
   *   become +∞ (so those frames fail the precision curves too).
   * - `'uav'`: ground truth may contain NaN (unannotated frames, which are invalid), and the
   *   centre error of invalid frames is -1, so they **pass** the precision curve.
   * Default: `'default'` (OTB, NfS, TrackingNet, GOT-10k; NaN ground truth is rejected).
   */
  dataset?: 'default' | 'lasot' | 'uav';
  /**
   * Which ground-truth boxes are valid. `'pytracking'`: all four values > 0 (a box at x = 0 or
   * y = 0 is invalid — pytracking's quirk). `'ostrack'`: only width and height > 0 (OSTrack's
   * copy). Default: `'pytracking'`.
   */
  validity?: 'pytracking' | 'ostrack';
  /** Divide by the number of valid frames instead of the sequence length. Default: false. */
  excludeInvalidFrames?: boolean;
}

/** Per-frame errors of one sequence after pytracking's clean-up (`calc_seq_err_robust`). */
export interface PytrackingFrameErrors {
  /** IoU per frame; -1 on invalid frames. */
  overlaps: number[];
  /** Centre error per frame in pixels; +∞ on invalid frames (-1 for `dataset: 'uav'`). */
  centerErrors: number[];
  /**
   * Normalized centre error per frame; **-1 on invalid frames**, so they pass every
   * normalized-precision threshold (pytracking's behaviour), except for `dataset: 'lasot'`
   * where invisible frames get +∞.
   */
  normalizedCenterErrors: number[];
  /** Whether each frame is valid. */
  valid: boolean[];
}

/** Curves of one sequence or of the average, in percent for averages and fractions per sequence. */
export interface PytrackingCurves {
  /** Success curve over {@link PYTRACKING_OVERLAP_THRESHOLDS} (IoU > thr). */
  successCurve: number[];
  /** Precision curve over {@link PYTRACKING_CENTER_THRESHOLDS} (error ≤ thr). */
  precisionCurve: number[];
  /** Normalized precision curve over {@link PYTRACKING_NORMALIZED_CENTER_THRESHOLDS} (error ≤ thr). */
  normalizedPrecisionCurve: number[];
}

/** One sequence's pytracking result; curves are float32 fractions (0…1), as pytracking stores them. */
export interface PytrackingSequenceResult extends PytrackingCurves {
  /** Sequence name. */
  name: string;
  /** Mean IoU over valid frames only (`avg_overlap_all`); NaN when no frame is valid. */
  averageOverlap: number;
  /** Number of valid frames. */
  validFrameCount: number;
}

/** Result of {@link evaluatePytracking}: scores in percent (× 100), float32-rounded like pytracking. */
export interface PytrackingResult extends PytrackingCurves {
  /** Protocol tag. */
  protocol: 'pytracking';
  /** Success AUC: mean of the 21-point success curve, in percent. */
  auc: number;
  /** Success curve at IoU > 0.50, in percent. */
  op50: number;
  /** Success curve at IoU > 0.75, in percent. */
  op75: number;
  /** Precision curve at 20 pixels, in percent. */
  precision: number;
  /** Normalized precision curve at 0.20, in percent. */
  normalizedPrecision: number;
  /** Per-sequence results, in input order. */
  perSequence: PytrackingSequenceResult[];
}

function hasNaN(box: Box): boolean {
  return Number.isNaN(box.x) || Number.isNaN(box.y) || Number.isNaN(box.width) || Number.isNaN(box.height);
}

function isValidGroundTruth(box: Box, rule: 'pytracking' | 'ostrack'): boolean {
  if (rule === 'ostrack') return box.width > 0 && box.height > 0;
  return box.x > 0 && box.y > 0 && box.width > 0 && box.height > 0;
}

/**
 * pytracking's clean-up of predictions before scoring: a prediction with zero width or height
 * (from frame 1 on, where the ground truth is not NaN) copies the previous, already cleaned
 * prediction; then the first prediction is replaced by the ground truth. Returns new boxes.
 */
export function pytrackingCleanPredictions(predictions: readonly Box[], groundTruth: readonly Box[]): Box[] {
  const cleaned = predictions.map(copyBox);
  for (let i = 1; i < cleaned.length; i++) {
    const p = cleaned[i] as Box;
    // Frames without annotation (NaN ground truth) keep their empty prediction, as in pytracking.
    if ((p.width === 0 || p.height === 0) && !hasNaN(groundTruth[i] as Box)) cleaned[i] = copyBox(cleaned[i - 1] as Box);
  }
  if (cleaned.length > 0) cleaned[0] = copyBox(groundTruth[0] as Box);
  return cleaned;
}

/** Per-frame overlap and centre errors of one sequence, with invalid frames marked as pytracking does. */
export function pytrackingFrameErrors(
  predictions: readonly Box[],
  groundTruth: readonly Box[],
  visible: readonly boolean[] | undefined,
  options: PytrackingOptions = {},
): PytrackingFrameErrors {
  const rule = options.validity ?? 'pytracking';
  const lasot = options.dataset === 'lasot';
  const invalidCenterError = options.dataset === 'uav' ? -1 : Number.POSITIVE_INFINITY;
  const cleaned = pytrackingCleanPredictions(predictions, groundTruth);
  const result: PytrackingFrameErrors = { overlaps: [], centerErrors: [], normalizedCenterErrors: [], valid: [] };
  cleaned.forEach((p, i) => {
    const g = groundTruth[i] as Box;
    const isVisible = visible?.[i] ?? true;
    const valid = isValidGroundTruth(g, rule) && isVisible;
    let overlap = -1;
    let centerError = invalidCenterError;
    let normalized = -1;
    if (valid) {
      overlap = pytrackingIou(p, g);
      centerError = pytrackingCenterError(p, g);
      normalized = pytrackingNormalizedCenterError(p, g);
    }
    if (lasot && !isVisible) {
      centerError = Number.POSITIVE_INFINITY;
      normalized = Number.POSITIVE_INFINITY;
    }
    result.overlaps.push(overlap);
    result.centerErrors.push(centerError);
    result.normalizedCenterErrors.push(normalized);
    result.valid.push(valid);
  });
  return result;
}

/** Fractions as pytracking stores them: integer counts over the sequence length, in float32. */
function float32Curve(values: readonly number[], thresholds: readonly number[], comparison: 'greater' | 'lessEqual', length: number): number[] {
  return countCurve(values, thresholds, comparison).map((count) => Math.fround(count / length));
}

/**
 * Score one sequence: float32 curves and the average overlap over valid frames. Expects a
 * sequence already checked by `validateSequence` ({@link evaluatePytracking} does that).
 */
export function pytrackingSequenceResult(
  sequence: EvaluatedSequence,
  index: number,
  options: PytrackingOptions = {},
): PytrackingSequenceResult {
  const name = sequenceName(sequence, index);
  const errors = pytrackingFrameErrors(sequence.predictions, sequence.groundTruth, sequence.visible, options);
  const validOverlaps = errors.overlaps.filter((_, i) => errors.valid[i]);
  const length = options.excludeInvalidFrames ? validOverlaps.length : errors.overlaps.length;
  if (length <= 0) {
    throw new InvalidArgumentError(`Expected at least one valid frame for sequence "${name}" but received 0`);
  }
  return {
    name,
    averageOverlap: torchMean(validOverlaps, 'float64'),
    validFrameCount: validOverlaps.length,
    successCurve: float32Curve(errors.overlaps, PYTRACKING_OVERLAP_THRESHOLDS, 'greater', length),
    precisionCurve: float32Curve(errors.centerErrors, PYTRACKING_CENTER_THRESHOLDS, 'lessEqual', length),
    normalizedPrecisionCurve: float32Curve(
      errors.normalizedCenterErrors,
      PYTRACKING_NORMALIZED_CENTER_THRESHOLDS,
      'lessEqual',
      length,
    ),
  };
}

/** Mean over sequences in float32, times 100 in float32, as `get_auc_curve` / `get_prec_curve`. */
function percentCurve(rows: readonly (readonly number[])[], length: number): number[] {
  return torchMeanOverRows(rows, length, 'float32').map((v) => Math.fround(v * 100));
}

/**
 * Evaluate sequences as pytracking's `extract_results` + `print_results`: AUC, OP50, OP75,
 * Precision (20 px) and Norm. Precision (0.20) in percent, plus per-sequence average overlap.
 * Rounding follows pytracking's float32 curves, so scores agree with it to about 1e-5.
 */
export function evaluatePytracking(
  sequences: readonly EvaluatedSequence[],
  options: PytrackingOptions = {},
): PytrackingResult {
  validateSequences(sequences, { allowNaN: options.dataset === 'uav' });
  const perSequence = sequences.map((s, i) => pytrackingSequenceResult(s, i, options));
  const successCurve = percentCurve(
    perSequence.map((s) => s.successCurve),
    PYTRACKING_OVERLAP_THRESHOLDS.length,
  );
  const precisionCurve = percentCurve(
    perSequence.map((s) => s.precisionCurve),
    PYTRACKING_CENTER_THRESHOLDS.length,
  );
  const normalizedPrecisionCurve = percentCurve(
    perSequence.map((s) => s.normalizedPrecisionCurve),
    PYTRACKING_NORMALIZED_CENTER_THRESHOLDS.length,
  );
  return {
    protocol: 'pytracking',
    auc: torchMean(successCurve, 'float32'),
    op50: successCurve[10] as number,
    op75: successCurve[15] as number,
    precision: precisionCurve[20] as number,
    normalizedPrecision: normalizedPrecisionCurve[20] as number,
    successCurve,
    precisionCurve,
    normalizedPrecisionCurve,
    perSequence,
  };
}
