import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidBoxError } from '../../lib/errors.js';
import {
  boxArea,
  boxCenter,
  boxIntersectsImage,
  clipBox,
  fromCXCYWH,
  fromXYXY,
  toCXCYWH,
  toXYXY,
  validateBox,
  type Box,
} from '../../lib/geometry/box.js';
import { roundHalfEven } from '../../lib/geometry/round.js';

const box = (x: number, y: number, width: number, height: number): Box => ({ x, y, width, height });

describe('box formats', () => {
  it('converts a box by hand', () => {
    const b = box(10, 20, 30, 40);
    expect(toXYXY(b)).toEqual([10, 20, 40, 60]);
    expect(toCXCYWH(b)).toEqual([25, 40, 30, 40]);
    expect(boxCenter(b)).toEqual({ x: 25, y: 40 });
    expect(boxArea(b)).toBe(1200);
    expect(fromXYXY([10, 20, 40, 60])).toEqual(b);
    expect(fromCXCYWH([25, 40, 30, 40])).toEqual(b);
    // Crossed corners are kept, not silently reordered.
    expect(fromXYXY([5, 5, 2, 9])).toEqual(box(5, 5, -3, 4));
  });

  it('round trips exactly on dyadic values and to rounding error on any finite box', () => {
    // Multiples of 1/8 with small magnitudes add and halve exactly in binary.
    const dyadic = fc.integer({ min: -80_000, max: 80_000 }).map((v) => v / 8);
    const positive = fc.integer({ min: 1, max: 80_000 }).map((v) => v / 8);
    fc.assert(
      fc.property(dyadic, dyadic, positive, positive, (x, y, w, h) => {
        const b = box(x, y, w, h);
        expect(fromXYXY(toXYXY(b))).toEqual(b);
        expect(fromCXCYWH(toCXCYWH(b))).toEqual(b);
        expect(toCXCYWH(fromXYXY(toXYXY(b)))).toEqual(toCXCYWH(b));
      }),
    );
    const real = fc.double({ min: -1e4, max: 1e4, noNaN: true });
    const size = fc.double({ min: 1e-3, max: 1e4, noNaN: true });
    fc.assert(
      fc.property(real, real, size, size, (x, y, w, h) => {
        const back = fromCXCYWH(toCXCYWH(box(x, y, w, h)));
        const tolerance = 4 * Number.EPSILON * (Math.abs(x) + Math.abs(y) + w + h);
        expect(Math.abs(back.x - x)).toBeLessThanOrEqual(tolerance);
        expect(Math.abs(back.y - y)).toBeLessThanOrEqual(tolerance);
        expect(back.width).toBe(w);
        expect(back.height).toBe(h);
      }),
    );
  });
});

describe('validateBox', () => {
  it('returns a plain copy of a valid box without extra fields', () => {
    const input = { x: -4, y: 0, width: 3.5, height: 1, label: 'cat' };
    const result = validateBox(input);
    expect(result).toEqual(box(-4, 0, 3.5, 1));
    expect(result).not.toBe(input);
  });

  it.each([
    [box(0, 0, -3, 5), 'Expected a finite positive width for box but received -3'],
    [box(0, 0, 3, 0), 'Expected a finite positive height for box but received 0'],
    [box(Number.NaN, 0, 3, 5), 'Expected a finite x for box but received NaN'],
    [box(0, Number.POSITIVE_INFINITY, 3, 5), 'Expected a finite y for box but received Infinity'],
    [box(0, 0, Number.POSITIVE_INFINITY, 5), 'Expected a finite positive width for box but received Infinity'],
    [{ x: 0, y: 0, width: '3', height: 5 }, 'Expected a finite positive width for box but received "3"'],
    [{ x: 0, y: 0, height: 5 }, 'Expected a finite positive width for box but received undefined'],
    ['abc', 'Expected an object {x, y, width, height} for box but received "abc"'],
    [null, 'Expected an object {x, y, width, height} for box but received null'],
    [[1, 2, 3, 4], 'Expected an object {x, y, width, height} for box but received an array of length 4'],
    [7, 'Expected an object {x, y, width, height} for box but received 7'],
  ])('rejects %j with one message shape', (input, message) => {
    expect(() => validateBox(input)).toThrow(new InvalidBoxError(message));
    try {
      validateBox(input);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidBoxError);
      expect((err as InvalidBoxError).code).toBe('ERR_INVALID_BOX');
    }
  });

  it('names the box it checks', () => {
    expect(() => validateBox(box(0, 0, 1, -1), 'initial box')).toThrow('Expected a finite positive height for initial box but received -1');
  });
});

describe('clipBox (ARTrack clip_box, image 100 x 80)', () => {
  const W = 100;
  const H = 80;
  it.each([
    ['inside', box(10, 10, 20, 20), 10, box(10, 10, 20, 20)],
    ['past the left and top', box(-5, -5, 30, 30), 10, box(0, 0, 25, 25)],
    ['past the right', box(90, 10, 30, 20), 10, box(90, 10, 10, 20)],
    ['past the bottom', box(10, 70, 20, 30), 10, box(10, 70, 20, 10)],
    ['entirely right of the image', box(150, 10, 20, 20), 10, box(90, 10, 10, 20)],
    ['entirely left of the image', box(-50, 10, 20, 20), 10, box(0, 10, 10, 20)],
    ['entirely below the image', box(10, 200, 20, 20), 10, box(10, 70, 20, 10)],
    ['larger than the image', box(-30, -40, 300, 300), 10, box(0, 0, 100, 80)],
    // Too small: raised to the margin and may then stick out past the right edge, as in ARTrack.
    ['smaller than the margin', box(50, 40, 2, 3), 10, box(50, 40, 10, 10)],
    ['small at the right edge', box(95, 10, 3, 20), 10, box(90, 10, 10, 20)],
    ['crossed corners', box(50, 40, -5, 20), 10, box(50, 40, 10, 20)],
    ['margin 0', box(-5, -5, 200, 200), 0, box(0, 0, 100, 80)],
  ])('%s', (_name, input, margin, expected) => {
    expect(clipBox(input, W, H, margin)).toEqual(expected);
  });

  it('uses a margin of 10 by default', () => {
    expect(clipBox(box(1, 1, 1, 1), W, H)).toEqual(box(1, 1, 10, 10));
  });

  it('always returns a box at least margin wide whose left/top edge is on the image', () => {
    const coordinate = fc.double({ min: -500, max: 500, noNaN: true });
    fc.assert(
      fc.property(coordinate, coordinate, coordinate, coordinate, fc.integer({ min: 0, max: 20 }), (x, y, w, h, margin) => {
        const c = clipBox(box(x, y, w, h), W, H, margin);
        expect(c.width).toBeGreaterThanOrEqual(margin);
        expect(c.height).toBeGreaterThanOrEqual(margin);
        expect(c.x).toBeGreaterThanOrEqual(0);
        expect(c.x).toBeLessThanOrEqual(W - margin);
        expect(c.y).toBeGreaterThanOrEqual(0);
        expect(c.y).toBeLessThanOrEqual(H - margin);
        expect(c.x + c.width).toBeLessThanOrEqual(W + margin);
      }),
    );
  });

  it('rejects non-finite boxes and bad image sizes with typed errors', () => {
    expect(() => clipBox(box(0, 0, Number.NaN, 1), W, H)).toThrow(new InvalidBoxError('Expected a finite width for box but received NaN'));
    expect(() => clipBox(box(0, 0, 1, 1), 0, H)).toThrow(new InvalidArgumentError('Expected a finite positive image width but received 0'));
    expect(() => clipBox(box(0, 0, 1, 1), W, Number.NaN)).toThrow('Expected a finite positive image height but received NaN');
    expect(() => clipBox(box(0, 0, 1, 1), W, H, -1)).toThrow('Expected a finite non-negative margin but received -1');
  });
});

describe('boxIntersectsImage', () => {
  it.each([
    [box(10, 10, 5, 5), true],
    [box(-5, -5, 10, 10), true],
    [box(95, 75, 10, 10), true],
    [box(-10, 10, 10, 5), false], // touches the left edge only
    [box(100, 10, 10, 5), false], // touches the right edge only
    [box(10, -10, 5, 10), false],
    [box(10, 80, 5, 10), false],
    [box(-50, -50, 300, 300), true], // covers the whole image
    [box(200, 200, 5, 5), false],
  ])('%j → %s', (b, expected) => {
    expect(boxIntersectsImage(b, 100, 80)).toBe(expected);
  });
});

describe('roundHalfEven (Python round)', () => {
  it.each([
    [0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, 0], [-1.5, -2], [-2.5, -2],
    [48.5, 48], [49.5, 50], [2.4999999999999996, 2], [0.49999999999999994, 0], [2.6, 3], [-2.6, -3],
    [4503599627370497, 4503599627370497],
  ])('round(%f) = %i', (value, expected) => {
    expect(roundHalfEven(value) === expected).toBe(true);
  });

  it('is an integer within half of the input, ties to even', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), (v) => {
        const r = roundHalfEven(v);
        expect(Number.isInteger(r)).toBe(true);
        expect(Math.abs(r - v)).toBeLessThanOrEqual(0.5);
        if (Math.abs(r - v) === 0.5) expect(Math.abs(r % 2)).toBe(0);
      }),
    );
    fc.assert(fc.property(fc.integer({ min: -1e6, max: 1e6 }), (k) => {
      expect(Math.abs(roundHalfEven(k + 0.5) % 2)).toBe(0);
    }));
  });
});
