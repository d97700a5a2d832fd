/**
 * The square crops the tracker cuts around the target (template and search region), and the
 * maps between image pixels and normalized crop coordinates.
 */
import type { CropParams } from '../engine/types.js';
import { InvalidArgumentError, InvalidBoxError } from '../errors.js';
import type { Box } from './box.js';
import { describeReceived } from './describe.js';
import { roundHalfEven } from './round.js';

/**
 * The crop OSTrack/ARTrack's `sample_target` cuts: a square of side
 * `ceil(sqrt(width × height) × factor)` pixels whose corner is
 * `x0 = round(cx − side/2)`, `y0 = round(cy − side/2)` with Python's round-half-to-even, later
 * resized to `outputSize` × `outputSize`. The crop may leave the image on any side.
 * @param center - Target centre in image pixels.
 * @param size - Target size in image pixels (both > 0).
 * @param factor - Crop side as a multiple of the target's geometric-mean size (4 for the
 *   search region, 2 for templates in the shipped configs).
 * @param outputSize - Resolution the crop is resized to (positive integer).
 * @throws InvalidBoxError when the centre or size is not finite, the size is not positive,
 *   or the side comes out below 1 pixel or infinite (sample_target's "Too small bounding box").
 * @throws InvalidArgumentError for a bad factor or output size.
 */
export function cropAround(
  center: { x: number; y: number },
  size: { width: number; height: number },
  factor: number,
  outputSize: number,
): CropParams {
  for (const [name, value] of [['centre x', center.x], ['centre y', center.y]] as const) {
    if (!Number.isFinite(value)) throw new InvalidBoxError(`Expected a finite ${name} for crop but received ${describeReceived(value)}`);
  }
  for (const [name, value] of [['width', size.width], ['height', size.height]] as const) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new InvalidBoxError(`Expected a finite positive ${name} for crop target but received ${describeReceived(value)}`);
    }
  }
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new InvalidArgumentError(`Expected a finite positive crop factor but received ${describeReceived(factor)}`);
  }
  if (!Number.isInteger(outputSize) || outputSize <= 0) {
    throw new InvalidArgumentError(`Expected a positive integer crop output size but received ${describeReceived(outputSize)}`);
  }
  const side = Math.ceil(Math.sqrt(size.width * size.height) * factor);
  if (!Number.isFinite(side) || side < 1) {
    throw new InvalidBoxError(`Expected a finite crop side of at least 1 pixel but received ${describeReceived(side)}`);
  }
  return {
    x0: roundHalfEven(center.x - side / 2),
    y0: roundHalfEven(center.y - side / 2),
    side,
    outputSize,
  };
}

/**
 * Express an image-pixel box in normalized crop coordinates: u = (x − x0) / side, so the crop
 * spans [0, 1] on both axes (values outside mean the box leaves the crop).
 *
 * This is the project's definition and the exact inverse of {@link cropToImage}. ARTrack maps
 * boxes into the crop around the centre (S − 1)/2 (`transform_image_to_crop`) but back around
 * S/2 (`map_box_back`), a half-output-pixel asymmetry, and it maps back around the unrounded
 * centre rather than the rounded corner x0. We drop both: with continuous pixel coordinates
 * (pixel i covers [i, i + 1)), `cv2.resize` maps crop coordinate u exactly to image x0 + u·side,
 * so this map is the geometrically exact one and round trips are lossless.
 */
export function imageToCrop(b: Box, crop: CropParams): Box {
  return {
    x: (b.x - crop.x0) / crop.side,
    y: (b.y - crop.y0) / crop.side,
    width: b.width / crop.side,
    height: b.height / crop.side,
  };
}

/** Inverse of {@link imageToCrop}: a normalized crop box back to image pixels. */
export function cropToImage(b: Box, crop: CropParams): Box {
  return {
    x: crop.x0 + b.x * crop.side,
    y: crop.y0 + b.y * crop.side,
    width: b.width * crop.side,
    height: b.height * crop.side,
  };
}

/** Scale from image pixels to output pixels of the crop: outputSize / side (`resize_factor`). */
export function cropResizeFactor(crop: CropParams): number {
  return crop.outputSize / crop.side;
}
