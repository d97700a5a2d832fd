/**
 * The unified crop reference of a clip and the maps between image boxes and the clip's
 * trajectory tokens. SCT-Diff crops every frame of a clip around one shared square search
 * region, so all boxes of a clip live in one coordinate frame: the region is centred on the
 * mean centre of the previous window's boxes and sized from their mean size (the init box for
 * the first clip).
 */
import type { CropParams, EngineModelInfo } from '../engine/types.js';
import { InvalidArgumentError } from '../errors.js';
import { type Box, boxCenter, clipBox } from '../geometry/box.js';
import { cropAround, cropToImage, imageToCrop } from '../geometry/crop.js';
import { boxToTokens, isCoordinateToken, tokensToBox, type TokenizerConfig } from '../model/tokenizer.js';

/** Tokenizer grid of a model, as its weight file's config states it. */
export function tokenizerOf(model: Pick<EngineModelInfo, 'bins' | 'rangeMin' | 'rangeMax'>): TokenizerConfig {
  return { bins: model.bins, rangeMin: model.rangeMin, rangeMax: model.rangeMax };
}

/**
 * The box with the mean centre and the mean width and height of `boxes`: the reference the
 * next clip's search region is cut around.
 * @throws InvalidArgumentError when `boxes` is empty.
 */
export function meanBox(boxes: readonly Box[]): Box {
  if (boxes.length === 0) throw new InvalidArgumentError('Expected at least one box to average but received none');
  let cx = 0;
  let cy = 0;
  let w = 0;
  let h = 0;
  for (const b of boxes) {
    const c = boxCenter(b);
    cx += c.x;
    cy += c.y;
    w += b.width;
    h += b.height;
  }
  const n = boxes.length;
  return { x: cx / n - w / n / 2, y: cy / n - h / n / 2, width: w / n, height: h / n };
}

/** Search region of a clip: `searchFactor` × the reference's size, resized to `searchSize`. */
export function searchCropFor(reference: Box, model: Pick<EngineModelInfo, 'searchFactor' | 'searchSize'>): CropParams {
  return cropAround(boxCenter(reference), reference, model.searchFactor, model.searchSize);
}

/** Template crop around a box: `templateFactor` × its size, resized to `templateSize`. */
export function templateCropFor(box: Box, model: Pick<EngineModelInfo, 'templateFactor' | 'templateSize'>): CropParams {
  return cropAround(boxCenter(box), box, model.templateFactor, model.templateSize);
}

/**
 * The prior trajectory of a window: each image box re-expressed in the clip's crop
 * coordinates, then quantized to its four tokens [x1, y1, x2, y2] (4 × boxes.length tokens).
 */
export function priorTokens(boxes: readonly Box[], crop: CropParams, tokenizer: TokenizerConfig): Int32Array {
  const tokens = new Int32Array(4 * boxes.length);
  boxes.forEach((box, i) => tokens.set(boxToTokens(imageToCrop(box, crop), tokenizer), 4 * i));
  return tokens;
}

/** Mean of the four top-1 probabilities of frame `i`'s coordinate tokens. */
export function frameScore(scores: ArrayLike<number>, i: number): number {
  let sum = 0;
  for (let j = 0; j < 4; j++) sum += scores[4 * i + j] ?? 0;
  return sum / 4;
}

/** One frame's box as predicted by a decoder call, in image pixels. */
export interface DecodedEstimate {
  /** Box in image pixels, clipped to the image. */
  box: Box;
  /** Mean top-1 probability of the 4 tokens; 0 when the prediction was unusable. */
  score: number;
}

/** Image geometry needed to map a prediction back. */
export interface MapBackOptions {
  /** Image width in pixels. */
  imageWidth: number;
  /** Image height in pixels. */
  imageHeight: number;
  /** Minimum box size kept by `clipBox`. Default: 10 (ARTrack). */
  margin?: number;
}

/**
 * Frame `i`'s predicted tokens back to an image box: tokensToBox → cropToImage → clipBox.
 * The decoder's argmax runs over the whole vocabulary, so it may put [Begin]/[End] in a
 * coordinate slot; such a frame falls back to its prior tokens and gets score 0, so the
 * refinement rule never prefers it over a real estimate.
 */
export function decodedEstimate(
  tokens: ArrayLike<number>,
  scores: ArrayLike<number>,
  prior: ArrayLike<number>,
  i: number,
  crop: CropParams,
  tokenizer: TokenizerConfig,
  options: MapBackOptions,
): DecodedEstimate {
  let usable = true;
  for (let j = 0; j < 4; j++) usable &&= isCoordinateToken(tokens[4 * i + j] ?? -1, tokenizer);
  const source = usable ? tokens : prior;
  const cropBox = tokensToBox(source, 4 * i, tokenizer);
  const box = clipBox(cropToImage(cropBox, crop), options.imageWidth, options.imageHeight, options.margin ?? 10);
  return { box, score: usable ? frameScore(scores, i) : 0 };
}

/**
 * Whether features encoded with crop `encodedWith` may stand in for crop `wanted`: the same
 * output size and a corner shift and side change of at most `tolerance` × the wanted side.
 * Tolerance 0 accepts only an identical crop (exact: the features would be the same).
 */
export function cropWithinTolerance(encodedWith: CropParams, wanted: CropParams, tolerance: number): boolean {
  if (encodedWith.outputSize !== wanted.outputSize) return false;
  const limit = tolerance * wanted.side;
  return (
    Math.abs(encodedWith.x0 - wanted.x0) <= limit &&
    Math.abs(encodedWith.y0 - wanted.y0) <= limit &&
    Math.abs(encodedWith.side - wanted.side) <= limit
  );
}
