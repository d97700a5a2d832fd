/**
 * Shared types of the evaluation toolkit: one tracked sequence with its ground truth. Boxes
 * are the package's {@link Box} (xywh, continuous pixels); image sizes are lib/io's
 * {@link ImageSize}.
 */
import type { Box } from '../geometry/box.js';
import type { ImageSize } from '../io/image-size.js';

export type { Box, ImageSize };

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
