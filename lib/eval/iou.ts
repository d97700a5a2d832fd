/**
 * Box overlap (IoU) as the got10k toolkit and pytracking define it. Both use continuous
 * coordinates; they differ in rounding details that change the last bits, and in GOT-10k's
 * optional clipping of both boxes to the image.
 */
import type { Box, ImageSize } from './types.js';

/** Machine epsilon of float64 (numpy `finfo(float).eps`), added to the union by got10k. */
const FLOAT64_EPS = Number.EPSILON;

function clamp(value: number, low: number, high: number): number {
  // numpy.clip semantics: max(low) first, then min(high), so high wins when low > high.
  return Math.min(Math.max(value, low), high);
}

/**
 * Clip a box to the image the way got10k's `rect_iou(bound=…)` does: x is clamped to [0, W]
 * and then the width to [0, W − x], likewise for y and the height. A box hanging off the left
 * or top edge is moved to 0 **without** shrinking its width or height ([-5, -5, 30, 30]
 * becomes [0, 0, 30, 30]); that is the toolkit's behaviour and GOT-10k's numbers depend on
 * it. Returns a new box; the input is never changed (the toolkit mutates its arrays).
 */
export function clipBoxToImageGot10k(box: Box, image: ImageSize): Box {
  const x = clamp(box.x, 0, image.width);
  const y = clamp(box.y, 0, image.height);
  return {
    x,
    y,
    width: clamp(box.width, 0, image.width - x),
    height: clamp(box.height, 0, image.height - y),
  };
}

/**
 * IoU of two boxes as got10k's `rect_iou`: intersection / (union + eps), clipped to [0, 1],
 * in continuous coordinates (no +1 pixel convention). With `bound`, both boxes are first
 * clipped by {@link clipBoxToImageGot10k}. Default: no clipping.
 */
export function got10kIou(a: Box, b: Box, bound?: ImageSize): number {
  let x1 = a.x;
  let y1 = a.y;
  let w1 = a.width;
  let h1 = a.height;
  let x2 = b.x;
  let y2 = b.y;
  let w2 = b.width;
  let h2 = b.height;
  if (bound) {
    // Same arithmetic as clipBoxToImageGot10k, inlined: this runs once per frame.
    x1 = clamp(x1, 0, bound.width);
    y1 = clamp(y1, 0, bound.height);
    w1 = clamp(w1, 0, bound.width - x1);
    h1 = clamp(h1, 0, bound.height - y1);
    x2 = clamp(x2, 0, bound.width);
    y2 = clamp(y2, 0, bound.height);
    w2 = clamp(w2, 0, bound.width - x2);
    h2 = clamp(h2, 0, bound.height - y2);
  }
  const interWidth = Math.max(Math.min(x1 + w1, x2 + w2) - Math.max(x1, x2), 0);
  const interHeight = Math.max(Math.min(y1 + h1, y2 + h2) - Math.max(y1, y2), 0);
  const inter = interWidth * interHeight;
  const union = w1 * h1 + w2 * h2 - inter;
  return clamp(inter / (union + FLOAT64_EPS), 0, 1);
}

/** {@link got10kIou} of each frame; `predictions` and `groundTruth` must have the same length. */
export function got10kIous(predictions: readonly Box[], groundTruth: readonly Box[], bound?: ImageSize): number[] {
  return predictions.map((p, i) => got10kIou(p, groundTruth[i] as Box, bound));
}

/**
 * IoU as pytracking's `calc_iou_overlap`: corners with the inclusive-pixel convention
 * (br = xy + wh − 1, size = br − tl + 1, clamped at 0). The −1/+1 cancel mathematically, so
 * this equals the continuous IoU up to rounding; it is computed in the same order as pytracking
 * so the last bits agree. No epsilon: a zero union gives NaN, as in pytracking.
 */
export function pytrackingIou(prediction: Box, groundTruth: Box): number {
  const p = prediction;
  const g = groundTruth;
  const left = Math.max(p.x, g.x);
  const top = Math.max(p.y, g.y);
  const right = Math.min(p.x + p.width - 1, g.x + g.width - 1);
  const bottom = Math.min(p.y + p.height - 1, g.y + g.height - 1);
  const interWidth = Math.max(right - left + 1, 0);
  const interHeight = Math.max(bottom - top + 1, 0);
  const inter = interWidth * interHeight;
  const union = p.width * p.height + g.width * g.height - inter;
  return inter / union;
}
