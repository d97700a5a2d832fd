import { describe, expect, it } from 'vitest';
import type { CropParams } from '../../lib/engine/types.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { cropToImage } from '../../lib/geometry/crop.js';
import { DEFAULT_TOKENIZER } from '../../lib/model/tokenizer.js';
import {
  cropWithinTolerance,
  decodedEstimate,
  frameScore,
  meanBox,
  priorTokens,
  searchCropFor,
  templateCropFor,
  tokenizerOf,
} from '../../lib/tracker/reference.js';
import { TEST_MODEL } from '../helpers/test-engine.js';

const tok = DEFAULT_TOKENIZER;

describe('unified crop reference', () => {
  it('meanBox averages centres and sizes', () => {
    const m = meanBox([
      { x: 0, y: 0, width: 10, height: 20 }, // centre (5, 10)
      { x: 20, y: 10, width: 30, height: 40 }, // centre (35, 30)
    ]);
    // Mean centre (20, 20), mean size 20 × 30.
    expect(m).toEqual({ x: 10, y: 5, width: 20, height: 30 });
    expect(() => meanBox([])).toThrow(InvalidArgumentError);
  });

  it('the search crop is sample_target around the reference: side ceil(sqrt(wh) × 4), corner round(c − side/2)', () => {
    const crop = searchCropFor({ x: 100, y: 50, width: 40, height: 10 }, TEST_MODEL);
    // sqrt(400) × 4 = 80; centre (120, 55).
    expect(crop).toEqual({ x0: 80, y0: 15, side: 80, outputSize: 128 });
    const template = templateCropFor({ x: 100, y: 50, width: 40, height: 10 }, TEST_MODEL);
    expect(template).toEqual({ x0: 100, y0: 35, side: 40, outputSize: 64 });
  });

  it('tokenizerOf takes the bin count and the range from the model', () => {
    expect(tokenizerOf({ bins: 100, rangeMin: -1, rangeMax: 2 })).toEqual({ bins: 100, rangeMin: -1, rangeMax: 2 });
  });
});

describe('prior tokens and map back', () => {
  const crop: CropParams = { x0: 10, y0: 20, side: 399, outputSize: 128 };

  it('re-expresses image boxes in the clip crop, then quantizes [x1, y1, x2, y2]', () => {
    // In crop units: x = 0, y = 0, x2 = 1, y2 = 0.5 → floor((c + 0.5) × 399).
    const tokens = priorTokens([{ x: 10, y: 20, width: 399, height: 199.5 }], crop, tok);
    expect([...tokens]).toEqual([199, 199, 598, 399]);
    // Far outside the extended range clamps to the grid ends.
    const clamped = priorTokens([{ x: -5000, y: 20, width: 10000, height: 10 }], crop, tok);
    expect(clamped[0]).toBe(0);
    expect(clamped[2]).toBe(798);
  });

  it('round trip image → tokens → image stays within one bin of the crop side', () => {
    const box = { x: 123.4, y: 77.7, width: 61.2, height: 40.9 };
    const c = searchCropFor(box, TEST_MODEL);
    const tokens = priorTokens([box], c, tok);
    const back = decodedEstimate(tokens, new Float32Array([0.5, 0.5, 0.7, 0.7]), tokens, 0, c, tok, { imageWidth: 1000, imageHeight: 1000 });
    const bin = c.side / 399;
    expect(Math.abs(back.box.x - box.x)).toBeLessThanOrEqual(bin / 2 + 1e-9);
    expect(Math.abs(back.box.y - box.y)).toBeLessThanOrEqual(bin / 2 + 1e-9);
    expect(Math.abs(back.box.width - box.width)).toBeLessThanOrEqual(bin + 1e-9);
    expect(back.score).toBeCloseTo(0.6, 6);
  });

  it('maps back through the crop of the window (the i-th frame reads tokens 4i..4i+3)', () => {
    const tokens = Int32Array.from([0, 0, 0, 0, 199, 199, 598, 399]);
    const e = decodedEstimate(tokens, new Float32Array(8).fill(0.25), tokens, 1, crop, tok, { imageWidth: 2000, imageHeight: 2000 });
    // Bin centres: (199.5/399 − 0.5) = 0 → x = x0; (598.5/399 − 0.5) = 1 → x2 = x0 + side.
    expect(e.box.x).toBeCloseTo(10, 9);
    expect(e.box.width).toBeCloseTo(399, 9);
    expect(e.box.height).toBeCloseTo(200, 9); // (399.5/399 − 0.5) × 399 = 200
  });

  it('clips the mapped box to the image with a 10 px margin', () => {
    const tokens = priorTokens([{ x: -100, y: -100, width: 50, height: 50 }], crop, tok);
    const e = decodedEstimate(tokens, new Float32Array(4).fill(1), tokens, 0, crop, tok, { imageWidth: 300, imageHeight: 200 });
    expect(e.box).toEqual({ x: 0, y: 0, width: 10, height: 10 });
  });

  it('a [Begin]/[End] token in a coordinate slot falls back to the prior with score 0', () => {
    const prior = Int32Array.from([199, 199, 598, 399]);
    const predicted = Int32Array.from([199, 800, 598, 399]);
    const e = decodedEstimate(predicted, new Float32Array(4).fill(0.9), prior, 0, crop, tok, { imageWidth: 2000, imageHeight: 2000 });
    expect(e.score).toBe(0);
    const expected = cropToImage({ x: 199.5 / 399 - 0.5, y: 199.5 / 399 - 0.5, width: 399 / 399, height: 200 / 399 }, crop);
    expect(e.box.x).toBeCloseTo(expected.x, 9);
    expect(e.box.height).toBeCloseTo(expected.height, 9);
  });

  it('frameScore is the mean of the four coordinate probabilities', () => {
    expect(frameScore([0.1, 0.2, 0.3, 0.4, 1, 1, 1, 0], 0)).toBeCloseTo(0.25, 12);
    expect(frameScore([0.1, 0.2, 0.3, 0.4, 1, 1, 1, 0], 1)).toBeCloseTo(0.75, 12);
  });
});

describe('feature reuse tolerance', () => {
  const a: CropParams = { x0: 100, y0: 100, side: 200, outputSize: 128 };
  it('tolerance 0 accepts only the identical crop', () => {
    expect(cropWithinTolerance(a, { ...a }, 0)).toBe(true);
    expect(cropWithinTolerance(a, { ...a, x0: 101 }, 0)).toBe(false);
  });
  it('a positive tolerance is a fraction of the wanted side, on the corner and the side', () => {
    expect(cropWithinTolerance(a, { ...a, x0: 110, y0: 90 }, 0.05)).toBe(true); // 10 ≤ 0.05 × 200
    expect(cropWithinTolerance(a, { ...a, x0: 111 }, 0.05)).toBe(false);
    expect(cropWithinTolerance(a, { ...a, side: 211 }, 0.05)).toBe(false); // 11 > 10.55
    expect(cropWithinTolerance(a, { ...a, outputSize: 256 }, 1)).toBe(false);
  });
});
