/**
 * Centre-location errors as the got10k toolkit and pytracking define them. Both take the
 * centre as xy + (wh − 1) / 2 (an inclusive-pixel convention whose −1 cancels in a
 * difference of equal-size boxes only); they normalize differently.
 */
import type { Box } from './types.js';

/** Euclidean distance between box centres, as got10k's `center_error` (pixels). */
export function got10kCenterError(prediction: Box, groundTruth: Box): number {
  const dx = prediction.x + (prediction.width - 1) / 2 - (groundTruth.x + (groundTruth.width - 1) / 2);
  const dy = prediction.y + (prediction.height - 1) / 2 - (groundTruth.y + (groundTruth.height - 1) / 2);
  return Math.sqrt(dx * dx + dy * dy);
}

/**
 * got10k's `normalized_center_error`: the centre difference divided per axis by
 * max(1, ground-truth width/height), then the Euclidean norm (LaSOT normalized precision).
 */
export function got10kNormalizedCenterError(prediction: Box, groundTruth: Box): number {
  const dx = prediction.x + (prediction.width - 1) / 2 - (groundTruth.x + (groundTruth.width - 1) / 2);
  const dy = prediction.y + (prediction.height - 1) / 2 - (groundTruth.y + (groundTruth.height - 1) / 2);
  const nx = dx / Math.max(1, groundTruth.width);
  const ny = dy / Math.max(1, groundTruth.height);
  return Math.sqrt(nx * nx + ny * ny);
}

/** Centre error as pytracking's `calc_err_center` (centre = xy + 0.5 · (wh − 1)), in pixels. */
export function pytrackingCenterError(prediction: Box, groundTruth: Box): number {
  const dx = prediction.x + 0.5 * (prediction.width - 1) - (groundTruth.x + 0.5 * (groundTruth.width - 1));
  const dy = prediction.y + 0.5 * (prediction.height - 1) - (groundTruth.y + 0.5 * (groundTruth.height - 1));
  return Math.sqrt(dx * dx + dy * dy);
}

/**
 * pytracking's normalized centre error: **both centres** are divided by the ground-truth width
 * and height before the distance is taken (no max(1, ·) guard, unlike got10k).
 */
export function pytrackingNormalizedCenterError(prediction: Box, groundTruth: Box): number {
  const px = (prediction.x + 0.5 * (prediction.width - 1)) / groundTruth.width;
  const py = (prediction.y + 0.5 * (prediction.height - 1)) / groundTruth.height;
  const gx = (groundTruth.x + 0.5 * (groundTruth.width - 1)) / groundTruth.width;
  const gy = (groundTruth.y + 0.5 * (groundTruth.height - 1)) / groundTruth.height;
  const dx = px - gx;
  const dy = py - gy;
  return Math.sqrt(dx * dx + dy * dy);
}
