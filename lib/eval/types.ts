/**
 * Shared types of the evaluation toolkit: one tracked sequence with its ground truth, and the
 * image size used by GOT-10k's bounded IoU.
 */
import type { Box } from '../geometry/box.js';

export type { Box };

/** Image size in pixels; GOT-10k clips both boxes to it before computing IoU. */
export interface ImageSize {
  /** Image width in pixels. */
  width: number;
  /** Image height in pixels. */
  height: number;
}

/**
 * One sequence as the metrics see it: a predicted and a ground-truth box per frame, plus the
 * optional per-frame annotations some protocols use.
 */
export interface EvaluatedSequence {
  /** Sequence name, used in per-sequence results and error messages. Default: `"sequence <i>"`. */
  name?: string;
  /** Ground-truth box of every frame. Frame 0 is the initialization frame. */
  groundTruth: readonly Box[];
  /** Predicted box of every frame (same length as `groundTruth`). */
  predictions: readonly Box[];
  /**
   * Whether the target is visible in each frame (LaSOT: not fully occluded and not out of view;
   * GOT-10k: not absent). Default: visible everywhere.
   */
  visible?: readonly boolean[];
  /** GOT-10k visible ratio label per frame (0 = absent … 8 = fully visible). Default: none. */
  cover?: readonly number[];
  /** Seconds the tracker spent on each frame; frames with time ≤ 0 or NaN are ignored for speed. */
  times?: readonly number[];
  /** Image size for GOT-10k's bounded IoU. Default: no clipping. */
  imageSize?: ImageSize;
}
