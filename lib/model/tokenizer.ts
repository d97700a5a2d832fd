/**
 * ARTrack's coordinate tokenizer: each box corner coordinate, in normalized search-crop units,
 * becomes one of `bins × range` integer tokens covering [rangeMin, rangeMax]; two more tokens
 * delimit each frame ([Begin] = 800, [End] = 801 with the defaults).
 */
import { InvalidArgumentError } from '../errors.js';
import type { Box } from '../geometry/box.js';
import { describeReceived } from '../geometry/describe.js';

/** Quantization grid of the tokenizer. */
export interface TokenizerConfig {
  /** Bins per unit of crop side (ARTrack's `BINS`): the step is 1/(bins − 1). */
  bins: number;
  /** Smallest representable coordinate (crop units). */
  rangeMin: number;
  /** Largest representable coordinate (crop units). */
  rangeMax: number;
}

/**
 * ARTrack's grid: 400 bins over [−0.5, 1.5], i.e. a box may stick out of the search crop by
 * half a crop on any side (`MODEL.BINS = 400`, `MODEL.RANGE = 2`).
 */
export const DEFAULT_TOKENIZER: Readonly<TokenizerConfig> = Object.freeze({ bins: 400, rangeMin: -0.5, rangeMax: 1.5 });

/** [Begin] token of the default vocabulary: bins × range = 800 (ARTrack's START). */
export const BEGIN_TOKEN = 800;
/** [End] token of the default vocabulary: 801. */
export const END_TOKEN = 801;
/** Size of the default vocabulary: 800 coordinate tokens + [Begin] + [End]. */
export const VOCAB_SIZE = 802;

/** Number of coordinate tokens (the block before [Begin]): round(bins × range), 800 by default. */
export function coordinateTokenCount(cfg: TokenizerConfig = DEFAULT_TOKENIZER): number {
  return Math.round((cfg.rangeMax - cfg.rangeMin) * cfg.bins);
}

/** Largest token {@link quantize} produces: round(range × (bins − 1)), 798 by default. */
export function maxQuantizedToken(cfg: TokenizerConfig = DEFAULT_TOKENIZER): number {
  return Math.round((cfg.rangeMax - cfg.rangeMin) * (cfg.bins - 1));
}

/** Whether `k` is an integer coordinate token (0 ≤ k < {@link coordinateTokenCount}). */
export function isCoordinateToken(k: number, cfg: TokenizerConfig = DEFAULT_TOKENIZER): boolean {
  return Number.isInteger(k) && k >= 0 && k < coordinateTokenCount(cfg);
}

/**
 * Token of one coordinate: clamp(floor((c − rangeMin) × (bins − 1)), 0, {@link maxQuantizedToken}).
 * This is ARTrack's truncation (`int((c + 0.5) × 399)` after clamping), kept so tokens agree
 * with ARTrack-style training targets; out-of-range coordinates clamp to the ends.
 * @throws InvalidArgumentError when `c` is NaN or infinite.
 */
export function quantize(c: number, cfg: TokenizerConfig = DEFAULT_TOKENIZER): number {
  if (!Number.isFinite(c)) {
    throw new InvalidArgumentError(`Expected a finite coordinate to quantize but received ${describeReceived(c)}`);
  }
  const k = Math.floor((c - cfg.rangeMin) * (cfg.bins - 1));
  return Math.min(Math.max(k, 0), maxQuantizedToken(cfg));
}

/** Options of {@link dequantize} and {@link tokensToBox}. */
export interface DequantizeOptions {
  /**
   * Decode to the centre of the bin instead of its lower edge. Default: true. Because
   * {@link quantize} truncates, a token k stands for coordinates in [k, k + 1) bins, so the
   * lower edge (ARTrack v1's decoding) is biased half a bin low; the centre (ARTrackV2-seq's
   * `(k + 0.5)/(bins − 1) − 0.5`) is unbiased and keeps the round-trip error within half a bin.
   */
  halfBin?: boolean;
}

/**
 * Coordinate of token `k`: (k + 0.5)/(bins − 1) + rangeMin, or k/(bins − 1) + rangeMin with
 * `halfBin: false`.
 * @throws InvalidArgumentError when `k` is not a coordinate token (e.g. [Begin] or [End]).
 */
export function dequantize(k: number, cfg: TokenizerConfig = DEFAULT_TOKENIZER, options: DequantizeOptions = {}): number {
  if (!isCoordinateToken(k, cfg)) {
    throw new InvalidArgumentError(
      `Expected a coordinate token in [0, ${coordinateTokenCount(cfg) - 1}] but received ${describeReceived(k)}`,
    );
  }
  const halfBin = options.halfBin ?? true;
  return (k + (halfBin ? 0.5 : 0)) / (cfg.bins - 1) + cfg.rangeMin;
}

/**
 * Tokens [x1, y1, x2, y2] (corner order, as ARTrack) of a box given in normalized crop
 * coordinates (see `imageToCrop`).
 * @throws InvalidArgumentError when a corner is not finite.
 */
export function boxToTokens(b: Box, cfg: TokenizerConfig = DEFAULT_TOKENIZER): [number, number, number, number] {
  return [quantize(b.x, cfg), quantize(b.y, cfg), quantize(b.x + b.width, cfg), quantize(b.y + b.height, cfg)];
}

/**
 * Box in normalized crop coordinates from the four tokens x1, y1, x2, y2 at `tokens[offset..]`.
 * If the network predicts crossed corners the width or height is zero or negative; `clipBox`
 * turns such a box into a `margin`-sized one, as ARTrack does.
 * @param offset - Index of x1 in `tokens`. Default: 0.
 * @throws InvalidArgumentError when fewer than four tokens follow `offset` or one is not a
 *   coordinate token.
 */
export function tokensToBox(
  tokens: ArrayLike<number>,
  offset = 0,
  cfg: TokenizerConfig = DEFAULT_TOKENIZER,
  options: DequantizeOptions = {},
): Box {
  if (!Number.isInteger(offset) || offset < 0 || offset + 4 > tokens.length) {
    throw new InvalidArgumentError(
      `Expected an offset with four tokens after it in a sequence of ${tokens.length} but received ${describeReceived(offset)}`,
    );
  }
  const x1 = dequantize(tokens[offset] as number, cfg, options);
  const y1 = dequantize(tokens[offset + 1] as number, cfg, options);
  const x2 = dequantize(tokens[offset + 2] as number, cfg, options);
  const y2 = dequantize(tokens[offset + 3] as number, cfg, options);
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}
