import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../lib/errors.js';
import type { Box } from '../../lib/geometry/box.js';
import {
  BEGIN_TOKEN,
  DEFAULT_TOKENIZER,
  END_TOKEN,
  VOCAB_SIZE,
  boxToTokens,
  coordinateTokenCount,
  dequantize,
  isCoordinateToken,
  maxQuantizedToken,
  quantize,
  tokensToBox,
  type TokenizerConfig,
} from '../../lib/model/tokenizer.js';

const BIN = 1 / 399;
const box = (x: number, y: number, width: number, height: number): Box => ({ x, y, width, height });

describe('vocabulary constants', () => {
  it('follow ARTrack: 800 coordinate tokens, then Begin 800 and End 801', () => {
    expect(DEFAULT_TOKENIZER).toEqual({ bins: 400, rangeMin: -0.5, rangeMax: 1.5 });
    expect(coordinateTokenCount()).toBe(800);
    expect(maxQuantizedToken()).toBe(798);
    expect(BEGIN_TOKEN).toBe(coordinateTokenCount());
    expect(END_TOKEN).toBe(BEGIN_TOKEN + 1);
    expect(VOCAB_SIZE).toBe(END_TOKEN + 1);
    expect(isCoordinateToken(0)).toBe(true);
    expect(isCoordinateToken(799)).toBe(true);
    expect(isCoordinateToken(BEGIN_TOKEN)).toBe(false);
    expect(isCoordinateToken(END_TOKEN)).toBe(false);
    expect(isCoordinateToken(-1)).toBe(false);
    expect(isCoordinateToken(3.5)).toBe(false);
  });
});

describe('quantize', () => {
  it.each([
    [-0.5, 0],
    [0, 199], // floor(0.5 × 399) = floor(199.5): truncation, not rounding
    [0.5, 399],
    [1, 598], // floor(598.5)
    [1.5, 798],
    [-0.5 + BIN * 10.5, 10],
    [-3, 0],
    [-0.5000001, 0],
    [1.5000001, 798],
    [42, 798],
  ])('quantize(%f) = %i', (c, k) => {
    expect(quantize(c)).toBe(k);
  });

  it('rejects NaN and infinities with a typed error', () => {
    expect(() => quantize(Number.NaN)).toThrow(new InvalidArgumentError('Expected a finite coordinate to quantize but received NaN'));
    expect(() => quantize(Number.NEGATIVE_INFINITY)).toThrow('Expected a finite coordinate to quantize but received -Infinity');
  });

  it('clamps every out-of-range coordinate to the ends', () => {
    fc.assert(fc.property(fc.double({ min: -1e12, max: -0.5, noNaN: true }), (c) => {
      expect(quantize(c)).toBe(0);
    }));
    fc.assert(fc.property(fc.double({ min: 1.5, max: 1e12, noNaN: true }), (c) => {
      expect(quantize(c)).toBe(798);
    }));
  });

  it('is monotonic and always yields a coordinate token', () => {
    const c = fc.double({ min: -2, max: 3, noNaN: true });
    fc.assert(
      fc.property(c, c, (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(quantize(lo)).toBeLessThanOrEqual(quantize(hi));
        expect(isCoordinateToken(quantize(a))).toBe(true);
      }),
    );
  });
});

describe('dequantize', () => {
  it('decodes to the bin centre by default and to the lower edge with halfBin: false', () => {
    expect(dequantize(0)).toBeCloseTo(-0.5 + 0.5 / 399, 15);
    expect(dequantize(399, DEFAULT_TOKENIZER, { halfBin: false })).toBe(0.5);
    expect(dequantize(798, DEFAULT_TOKENIZER, { halfBin: false })).toBe(1.5);
    expect(dequantize(199)).toBeCloseTo(199.5 / 399 - 0.5, 15);
    expect(dequantize(799)).toBeCloseTo(799.5 / 399 - 0.5, 15);
  });

  it('rejects Begin/End and non-tokens', () => {
    expect(() => dequantize(BEGIN_TOKEN)).toThrow(new InvalidArgumentError('Expected a coordinate token in [0, 799] but received 800'));
    expect(() => dequantize(END_TOKEN)).toThrow(InvalidArgumentError);
    expect(() => dequantize(-1)).toThrow(InvalidArgumentError);
    expect(() => dequantize(2.5)).toThrow('Expected a coordinate token in [0, 799] but received 2.5');
  });

  it('round trips every in-range coordinate within half a bin (centre) and one bin (edge)', () => {
    fc.assert(
      fc.property(fc.double({ min: -0.5, max: 1.5, noNaN: true }), (c) => {
        const k = quantize(c);
        expect(Math.abs(dequantize(k) - c)).toBeLessThanOrEqual(0.5 * BIN + 1e-12);
        const edge = dequantize(k, DEFAULT_TOKENIZER, { halfBin: false });
        // Truncation: the lower edge is never above the value and at most one bin below it.
        expect(edge).toBeLessThanOrEqual(c + 1e-12);
        expect(c - edge).toBeLessThanOrEqual(BIN + 1e-12);
      }),
    );
  });

  it('maps every bin centre back to its own token', () => {
    for (let k = 0; k <= 798; k++) expect(quantize(dequantize(k))).toBe(k);
  });
});

describe('boxToTokens / tokensToBox', () => {
  it('encodes corners x1, y1, x2, y2 by hand', () => {
    // x1 = 0.375 → floor(0.875 × 399 = 349.125) = 349; x2 = 0.625 → floor(448.875) = 448.
    expect(boxToTokens(box(0.375, 0.375, 0.25, 0.25))).toEqual([349, 349, 448, 448]);
    // y2 = 0.1 + 2 = 2.1 is past the range: clamped.
    expect(boxToTokens(box(-1, 0.1, 0.5, 2))).toEqual([0, 239, 0, 798]);
  });

  it('decodes four tokens at an offset, skipping Begin/End', () => {
    const sequence = Int32Array.from([BEGIN_TOKEN, 349, 349, 448, 448, END_TOKEN]);
    const decoded = tokensToBox(sequence, 1);
    expect(decoded.x).toBeCloseTo(349.5 / 399 - 0.5, 15);
    expect(decoded.y).toBeCloseTo(349.5 / 399 - 0.5, 15);
    expect(decoded.width).toBeCloseTo(99 / 399, 12);
    expect(decoded.height).toBeCloseTo(99 / 399, 12);
    expect(tokensToBox([0, 0, 399, 798], 0, DEFAULT_TOKENIZER, { halfBin: false })).toEqual(box(-0.5, -0.5, 1, 2));
  });

  it('returns crossed corners as a negative size instead of hiding them', () => {
    const b = tokensToBox([500, 100, 400, 100]);
    expect(b.width).toBeCloseTo(-100 / 399, 12);
    expect(b.height).toBe(0);
  });

  it('rejects short sequences, bad offsets and special tokens in coordinate slots', () => {
    expect(() => tokensToBox([1, 2, 3])).toThrow(
      new InvalidArgumentError('Expected an offset with four tokens after it in a sequence of 3 but received 0'),
    );
    expect(() => tokensToBox([1, 2, 3, 4, 5], 2)).toThrow(InvalidArgumentError);
    expect(() => tokensToBox([1, 2, 3, 4], -1)).toThrow(InvalidArgumentError);
    expect(() => tokensToBox([BEGIN_TOKEN, 1, 2, 3])).toThrow('Expected a coordinate token in [0, 799] but received 800');
    expect(() => boxToTokens(box(0, 0, Number.NaN, 1))).toThrow(InvalidArgumentError);
  });

  it('round trips every in-range box within one bin per corner', () => {
    const corner = fc.double({ min: -0.5, max: 1.5, noNaN: true });
    fc.assert(
      fc.property(corner, corner, corner, corner, (a, b, c, d) => {
        const [x1, x2] = a <= c ? [a, c] : [c, a];
        const [y1, y2] = b <= d ? [b, d] : [d, b];
        const decoded = tokensToBox(boxToTokens(box(x1, y1, x2 - x1, y2 - y1)));
        expect(Math.abs(decoded.x - x1)).toBeLessThanOrEqual(BIN);
        expect(Math.abs(decoded.y - y1)).toBeLessThanOrEqual(BIN);
        expect(Math.abs(decoded.x + decoded.width - x2)).toBeLessThanOrEqual(BIN);
        expect(Math.abs(decoded.y + decoded.height - y2)).toBeLessThanOrEqual(BIN);
      }),
    );
  });
});

describe('other grids', () => {
  // SeqTrack-like: 10 bins over [0, 1].
  const grid: TokenizerConfig = { bins: 10, rangeMin: 0, rangeMax: 1 };
  it('derive their token counts and limits from the config', () => {
    expect(coordinateTokenCount(grid)).toBe(10);
    expect(maxQuantizedToken(grid)).toBe(9);
    expect(quantize(1, grid)).toBe(9);
    expect(quantize(0.5, grid)).toBe(4); // floor(4.5)
    expect(quantize(-0.2, grid)).toBe(0);
    expect(dequantize(9, grid, { halfBin: false })).toBe(1);
    expect(dequantize(4, grid)).toBe(0.5);
    expect(() => dequantize(10, grid)).toThrow('Expected a coordinate token in [0, 9] but received 10');
  });
});
