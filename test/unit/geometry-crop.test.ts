import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CropParams } from '../../lib/engine/types.js';
import { InvalidArgumentError, InvalidBoxError } from '../../lib/errors.js';
import { boxCenter, boxIntersectsImage, type Box } from '../../lib/geometry/box.js';
import { cropAround, cropResizeFactor, cropToImage, imageToCrop } from '../../lib/geometry/crop.js';

const box = (x: number, y: number, width: number, height: number): Box => ({ x, y, width, height });

describe('cropAround (sample_target)', () => {
  // [cx, cy, w, h, factor, x0, y0, side] printed by Python: crop_sz = math.ceil(math.sqrt(w*h)*f),
  // x1 = round(cx - crop_sz*0.5), y1 = round(cy - crop_sz*0.5).
  const python: Array<[number, number, number, number, number, number, number, number]> = [
    [100, 100, 20, 20, 4, 60, 60, 80],
    [50, 51, 3, 3, 1, 48, 50, 3], // 48.5 → 48 and 49.5 → 50: ties go to even
    [0, 0, 3, 3, 1, -2, -2, 3], // -1.5 → -2 (Math.round would give -1)
    [10.25, 7.75, 13.3, 41.7, 4.0, -37, -40, 95],
    [320.5, 240.5, 31, 17, 2.0, 298, 218, 46],
    [-20.3, 600.9, 5.5, 8.25, 4.0, -34, 587, 27],
    [639.5, 479.5, 1, 1, 5, 637, 477, 5],
    [123.456, 78.9, 45.6, 12.3, 2.0, 99, 55, 48],
  ];
  it.each(python)('centre (%f, %f) size %f x %f factor %f → x0 %i, y0 %i, side %i', (cx, cy, w, h, f, x0, y0, side) => {
    expect(cropAround({ x: cx, y: cy }, { width: w, height: h }, f, 256)).toEqual({ x0, y0, side, outputSize: 256 });
  });

  it('rounds the side up: sqrt(10 x 20) x 4 = 56.57 → 57', () => {
    expect(cropAround({ x: 0, y: 0 }, { width: 10, height: 20 }, 4, 128).side).toBe(57);
    expect(cropAround({ x: 0, y: 0 }, { width: 10, height: 40 }, 4, 128).side).toBe(80);
  });

  // Image 640 x 480, target 40 x 40 (side 160 at factor 4): crops that leave the image.
  const W = 640;
  const H = 480;
  it.each([
    ['left', 10, 240, -70, 160],
    ['top', 320, 5, 240, -75],
    ['right', 630, 240, 550, 160],
    ['bottom', 320, 470, 240, 390],
  ])('a crop leaving the image on the %s keeps the target centred', (_side, cx, cy, x0, y0) => {
    const crop = cropAround({ x: cx, y: cy }, { width: 40, height: 40 }, 4, 256);
    expect(crop).toEqual({ x0, y0, side: 160, outputSize: 256 });
    expect(crop.x0 < 0 || crop.y0 < 0 || crop.x0 + crop.side > W || crop.y0 + crop.side > H).toBe(true);
    const target = box(cx - 20, cy - 20, 40, 40);
    expect(imageToCrop(target, crop)).toEqual(box(0.375, 0.375, 0.25, 0.25));
    expect(cropToImage(imageToCrop(target, crop), crop)).toEqual(target);
    expect(cropResizeFactor(crop)).toBe(1.6);
  });

  it('a crop larger than the image covers it entirely', () => {
    const crop = cropAround({ x: 320, y: 240 }, { width: 200, height: 200 }, 4, 256);
    expect(crop).toEqual({ x0: -80, y0: -160, side: 800, outputSize: 256 });
    const image = imageToCrop(box(0, 0, W, H), crop);
    expect(image).toEqual(box(0.1, 0.2, 0.8, 0.6));
    expect(cropResizeFactor(crop)).toBe(0.32);
  });

  it('rejects a bad target, factor or output size with typed errors', () => {
    const c = { x: 10, y: 10 };
    expect(() => cropAround(c, { width: -3, height: 4 }, 4, 128)).toThrow(new InvalidBoxError('Expected a finite positive width for crop target but received -3'));
    expect(() => cropAround(c, { width: 3, height: Number.NaN }, 4, 128)).toThrow('Expected a finite positive height for crop target but received NaN');
    expect(() => cropAround({ x: Number.POSITIVE_INFINITY, y: 0 }, { width: 3, height: 3 }, 4, 128)).toThrow(
      new InvalidBoxError('Expected a finite centre x for crop but received Infinity'),
    );
    expect(() => cropAround(c, { width: 3, height: 3 }, 0, 128)).toThrow(new InvalidArgumentError('Expected a finite positive crop factor but received 0'));
    expect(() => cropAround(c, { width: 3, height: 3 }, 4, 127.5)).toThrow('Expected a positive integer crop output size but received 127.5');
  });

  it('rejects a side that underflows to 0 or overflows (sample_target\'s "Too small bounding box")', () => {
    expect(() => cropAround({ x: 0, y: 0 }, { width: 1e-200, height: 1e-200 }, 4, 128)).toThrow(
      new InvalidBoxError('Expected a finite crop side of at least 1 pixel but received 0'),
    );
    expect(() => cropAround({ x: 0, y: 0 }, { width: 1e200, height: 1e200 }, 4, 128)).toThrow(
      'Expected a finite crop side of at least 1 pixel but received Infinity',
    );
  });

  it('always contains the target centre within one pixel of the crop centre', () => {
    const coordinate = fc.double({ min: -2000, max: 2000, noNaN: true });
    const size = fc.double({ min: 0.5, max: 1000, noNaN: true });
    fc.assert(
      fc.property(coordinate, coordinate, size, size, fc.constantFrom(2, 4, 5), (cx, cy, w, h, factor) => {
        const crop = cropAround({ x: cx, y: cy }, { width: w, height: h }, factor, 128);
        expect(Number.isInteger(crop.x0) && Number.isInteger(crop.y0) && Number.isInteger(crop.side)).toBe(true);
        expect(crop.side).toBeGreaterThanOrEqual(Math.sqrt(w * h) * factor);
        expect(Math.abs(crop.x0 + crop.side / 2 - cx)).toBeLessThanOrEqual(0.5 + 1e-9);
        expect(Math.abs(crop.y0 + crop.side / 2 - cy)).toBeLessThanOrEqual(0.5 + 1e-9);
      }),
    );
  });
});

describe('imageToCrop / cropToImage', () => {
  const crop: CropParams = { x0: 60, y0: -20, side: 80, outputSize: 128 };

  it('maps by hand: u = (x - x0)/side', () => {
    expect(imageToCrop(box(100, 20, 20, 40), crop)).toEqual(box(0.5, 0.5, 0.25, 0.5));
    expect(imageToCrop(box(60, -20, 80, 80), crop)).toEqual(box(0, 0, 1, 1));
    expect(imageToCrop(box(20, -60, 10, 10), crop)).toEqual(box(-0.5, -0.5, 0.125, 0.125));
    expect(cropToImage(box(0.5, 0.5, 0.25, 0.5), crop)).toEqual(box(100, 20, 20, 40));
    expect(cropToImage(box(1.5, 1.5, 0, 0), crop)).toEqual(box(180, 100, 0, 0));
    expect(cropResizeFactor(crop)).toBe(1.6);
  });

  it('are inverses (to rounding error) for any box and crop', () => {
    const coordinate = fc.double({ min: -5000, max: 5000, noNaN: true });
    const size = fc.double({ min: 1e-3, max: 5000, noNaN: true });
    const anyCrop = fc.record({
      x0: fc.integer({ min: -3000, max: 3000 }),
      y0: fc.integer({ min: -3000, max: 3000 }),
      side: fc.integer({ min: 1, max: 6000 }),
      outputSize: fc.constantFrom(64, 128, 256),
    });
    fc.assert(
      fc.property(coordinate, coordinate, size, size, anyCrop, (x, y, w, h, c) => {
        const b = box(x, y, w, h);
        const back = cropToImage(imageToCrop(b, c), c);
        const tol = 1e-12 * (Math.abs(x) + Math.abs(y) + w + h + Math.abs(c.x0) + Math.abs(c.y0) + c.side);
        expect(Math.abs(back.x - x)).toBeLessThanOrEqual(tol);
        expect(Math.abs(back.y - y)).toBeLessThanOrEqual(tol);
        expect(Math.abs(back.width - w)).toBeLessThanOrEqual(tol);
        expect(Math.abs(back.height - h)).toBeLessThanOrEqual(tol);
        const center = boxCenter(imageToCrop(b, c));
        const expected = boxCenter(b);
        expect(Math.abs(center.x - (expected.x - c.x0) / c.side)).toBeLessThanOrEqual(tol);
      }),
    );
  });

  it('a target cut with factor 4 lands in the middle quarter of the crop and on the image', () => {
    const target = box(300, 200, 50, 32);
    const crop = cropAround(boxCenter(target), target, 4, 256);
    const inCrop = imageToCrop(target, crop);
    expect(inCrop.x).toBeGreaterThan(0.3);
    expect(inCrop.x + inCrop.width).toBeLessThan(0.7);
    expect(boxIntersectsImage(target, 640, 480)).toBe(true);
  });
});

describe('difference from ARTrack\'s own maps (documented in imageToCrop)', () => {
  // ARTrack's transform_image_to_crop (normalized): ((S - 1)/2 + (c - cExtract)·S/side)/S, where
  // cExtract is the unrounded centre the crop was cut around; map_box_back: c·side + cPrev - side/2.
  const coordinate = fc.double({ min: -2000, max: 2000, noNaN: true });
  const size = fc.double({ min: 1, max: 500, noNaN: true });
  it('moves a box by at most half an image pixel plus half an output pixel', () => {
    fc.assert(
      fc.property(coordinate, coordinate, size, size, coordinate, fc.constantFrom(128, 256), (cx, cy, w, h, boxX, outputSize) => {
        const crop = cropAround({ x: cx, y: cy }, { width: w, height: h }, 4, outputSize);
        const ours = imageToCrop(box(boxX, 0, 10, 10), crop).x + 5 / crop.side;
        const artrack = ((outputSize - 1) / 2 + (boxX + 5 - cx) * (outputSize / crop.side)) / outputSize;
        expect(Math.abs(ours - artrack)).toBeLessThanOrEqual(0.5 / crop.side + 0.5 / outputSize + 1e-9);
        const back = cropToImage(box(ours - 5 / crop.side, 0, 10 / crop.side, 1), crop).x + 5;
        const artrackBack = ours * crop.side + cx - crop.side / 2;
        expect(Math.abs(back - artrackBack)).toBeLessThanOrEqual(0.5 + 1e-9);
      }),
    );
  });
});
