// Hand cases for each quirk of the got10k toolkit and pytracking that our metrics copy.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidBoxError } from '../../lib/errors.js';
import {
  clipBoxToImageGot10k,
  countCurve,
  evaluate,
  GOT10K_SUCCESS_THRESHOLDS,
  got10kCenterError,
  got10kIou,
  got10kNormalizedCenterError,
  numpyLinspace,
  numpySum,
  OTB_SUCCESS_THRESHOLDS,
  PYTRACKING_NORMALIZED_CENTER_THRESHOLDS,
  pytrackingCenterError,
  pytrackingCleanPredictions,
  pytrackingFrameErrors,
  pytrackingIou,
  pytrackingNormalizedCenterError,
  summarizeGot10k,
  torchMean,
  type EvaluatedSequence,
} from '../../lib/eval/index.js';
import type { Box } from '../../lib/geometry/box.js';

const box = (x: number, y: number, width: number, height: number): Box => ({ x, y, width, height });
const frozen = (b: Box): Box => Object.freeze({ ...b });

describe('got10k IoU and bound clipping', () => {
  const image = { width: 320, height: 240 };

  it('moves a box off the left/top edge to 0 without shrinking it', () => {
    expect(clipBoxToImageGot10k(box(-5, -5, 30, 30), image)).toEqual(box(0, 0, 30, 30));
  });

  it('shrinks width/height to the right/bottom edge and empties boxes beyond it', () => {
    expect(clipBoxToImageGot10k(box(300, 200, 60, 60), image)).toEqual(box(300, 200, 20, 40));
    expect(clipBoxToImageGot10k(box(400, 10, 20, 20), image)).toEqual(box(320, 10, 0, 20));
  });

  it('never changes its inputs (the toolkit clips in place)', () => {
    const a = frozen(box(-5, -5, 30, 30));
    const b = frozen(box(300, 200, 60, 60));
    expect(() => got10kIou(a, b, image)).not.toThrow();
    expect(a).toEqual(box(-5, -5, 30, 30));
  });

  it('bounded IoU differs from unbounded only through the clipping', () => {
    const gt = box(290, 190, 60, 60);
    const pred = box(300, 200, 60, 60);
    expect(got10kIou(pred, gt)).toBeCloseTo(2500 / 4700, 15);
    expect(got10kIou(pred, gt, image)).toBeCloseTo(800 / 1500, 15);
  });

  it('bounded IoU is exactly the IoU of the clipped boxes', () => {
    const coord = fc.double({ min: -400, max: 800, noNaN: true });
    const size = fc.double({ min: 0, max: 500, noNaN: true });
    const arbBox = fc.record({ x: coord, y: coord, width: size, height: size });
    fc.assert(
      fc.property(arbBox, arbBox, (a, b) => {
        expect(got10kIou(a, b, image)).toBe(got10kIou(clipBoxToImageGot10k(a, image), clipBoxToImageGot10k(b, image)));
      }),
    );
  });

  it('uses continuous coordinates (no +1) and an epsilon so empty boxes give 0, not NaN', () => {
    expect(got10kIou(box(0, 0, 10, 10), box(5, 0, 10, 10))).toBeCloseTo(50 / 150, 15);
    expect(got10kIou(box(0, 0, 10, 10), box(10, 0, 10, 10))).toBe(0);
    expect(got10kIou(box(3, 3, 0, 0), box(3, 3, 0, 0))).toBe(0);
    expect(got10kIou(box(1, 2, 3, 4), box(1, 2, 3, 4))).toBe(1);
  });
});

describe('centre errors', () => {
  it('got10k centre = xy + (wh - 1) / 2, so a size change moves the centre by half of it', () => {
    expect(got10kCenterError(box(0, 0, 12, 10), box(0, 0, 10, 10))).toBe(1);
    expect(got10kCenterError(box(3, 4, 10, 10), box(0, 0, 10, 10))).toBe(5);
  });

  it('got10k normalizes by max(1, GT size); pytracking divides both centres by the GT size', () => {
    expect(got10kNormalizedCenterError(box(3, 0, 10, 10), box(0, 0, 10, 10))).toBeCloseTo(0.3, 15);
    // A GT narrower than 1 px is treated as 1 px wide by got10k, not by pytracking.
    expect(got10kNormalizedCenterError(box(1, 0, 0.5, 10), box(0, 0, 0.5, 10))).toBe(1);
    expect(pytrackingNormalizedCenterError(box(1, 0, 0.5, 10), box(0, 0, 0.5, 10))).toBe(2);
    expect(pytrackingCenterError(box(3, 4, 10, 10), box(0, 0, 10, 10))).toBe(5);
  });

  it('pytracking IoU equals the continuous IoU (the -1/+1 cancel) and gives NaN on an empty union', () => {
    const a = box(10.5, 3, 20, 30);
    const b = box(15, 8.25, 22, 18);
    expect(pytrackingIou(a, b)).toBeCloseTo(got10kIou(a, b), 14);
    expect(pytrackingIou(a, box(100, 100, 5, 5))).toBe(0);
    expect(pytrackingIou(box(0, 0, 0, 0), box(0, 0, 0, 0))).toBeNaN();
  });
});

describe('numeric helpers copy numpy and torch rounding', () => {
  it('numpy linspace thresholds hit 0.5 and 0.75 exactly', () => {
    expect(OTB_SUCCESS_THRESHOLDS[10]).toBe(0.5);
    expect(GOT10K_SUCCESS_THRESHOLDS[75]).toBe(0.75);
    expect(numpyLinspace(0, 0.5, 51)[50]).toBe(0.5);
    expect(PYTRACKING_NORMALIZED_CENTER_THRESHOLDS[20]).toBe(0.2);
  });

  it('numpy sums pairwise, so the last bit matches numpy and not a running sum', () => {
    // Values printed by numpy 2.4: np.sum(np.full(10, 0.1)) and np.sum(np.arange(1, 201) * 0.1).
    const tenths = Array.from({ length: 10 }, () => 0.1);
    expect(tenths.reduce((a, b) => a + b, 0)).toBe(0.9999999999999999);
    expect(numpySum(tenths)).toBe(1);
    const ramp = Array.from({ length: 200 }, (_, i) => (i + 1) * 0.1);
    expect(ramp.reduce((a, b) => a + b, 0)).toBe(2010.0000000000002);
    expect(numpySum(ramp)).toBe(2010);
  });

  it('curve counts (one binary search per value) equal counting per threshold, NaN included', () => {
    const value = fc.oneof(fc.double({ min: -2, max: 60, noNaN: true }), fc.constantFrom(Number.NaN, 0, 0.5, 20, -1, Infinity));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 60 }), (values) => {
        for (const thresholds of [OTB_SUCCESS_THRESHOLDS, PYTRACKING_NORMALIZED_CENTER_THRESHOLDS, [0, 1, 2, 20, 50]]) {
          expect(countCurve(values, thresholds, 'greater')).toEqual(thresholds.map((t) => values.filter((v) => v > t).length));
          expect(countCurve(values, thresholds, 'lessEqual')).toEqual(thresholds.map((t) => values.filter((v) => v <= t).length));
        }
      }),
    );
  });

  it('torch float32 mean rounds every addition to float32', () => {
    const values = [0.1, 0.2, 0.3];
    expect(torchMean(values, 'float32')).toBe(Math.fround(Math.fround(Math.fround(0.1 + 0.2) + 0.3) / 3));
    expect(torchMean([], 'float64')).toBeNaN();
  });
});

describe('GOT-10k protocol', () => {
  const gt = [box(10, 10, 20, 20), box(10, 10, 20, 20), box(10, 10, 20, 20), box(10, 10, 20, 20)];
  const perfectBut = (frame: number, b: Box): Box[] => gt.map((g, i) => (i === frame ? b : g));

  it('excludes frame 0 and frames with cover 0; cover wins over visible', () => {
    const far = box(200, 200, 20, 20);
    const r = evaluate([{ groundTruth: gt, predictions: perfectBut(0, far), cover: [8, 8, 0, 8], visible: [true, false, true, false] }], {
      protocol: 'got10k',
    });
    expect(r.frameCount).toBe(2);
    expect(r.averageOverlap).toBe(1);
    const missedAtCoverZero = evaluate([{ groundTruth: gt, predictions: perfectBut(2, far), cover: [8, 8, 0, 8] }], {
      protocol: 'got10k',
    });
    expect(missedAtCoverZero.averageOverlap).toBe(1);
  });

  it('falls back to visible, then to all frames', () => {
    const far = box(200, 200, 20, 20);
    const withVisible = evaluate([{ groundTruth: gt, predictions: perfectBut(3, far), visible: [true, true, true, false] }], {
      protocol: 'got10k',
    });
    expect(withVisible.averageOverlap).toBe(1);
    const all = evaluate([{ groundTruth: gt, predictions: perfectBut(3, far) }], { protocol: 'got10k' });
    expect(all.averageOverlap).toBeCloseTo(2 / 3, 15);
  });

  it('pools frames over sequences (long sequences weigh more) and SR uses a strict >', () => {
    const half = box(20, 10, 20, 20); // IoU 1/3
    const exactlyHalf = box(10, 10, 10, 20); // IoU 0.5 exactly: not a success
    const r = evaluate(
      [
        { groundTruth: gt, predictions: perfectBut(1, half) },
        { groundTruth: gt.slice(0, 2), predictions: [gt[0] as Box, exactlyHalf] },
      ],
      { protocol: 'got10k' },
    );
    expect(r.frameCount).toBe(4);
    expect(r.averageOverlap).toBeCloseTo((1 / 3 + 1 + 1 + 0.5) / 4, 15);
    expect(r.successRate50).toBe(0.5);
    expect(r.perSequence.map((s) => s.length)).toEqual([3, 1]);
    expect(r.perSequence[1]?.successRate50).toBe(0);
  });

  it('repetitions passed as separate entries pool like the toolkit', () => {
    const far = box(200, 200, 20, 20);
    const rep1 = { name: 'a', groundTruth: gt, predictions: perfectBut(1, far), times: [0.1, 0.1, 0.1, 0.1] };
    const rep2 = { name: 'a', groundTruth: gt, predictions: gt };
    const r = evaluate([rep1, rep2], { protocol: 'got10k' });
    expect(r.frameCount).toBe(6);
    expect(r.averageOverlap).toBeCloseTo(5 / 6, 15);
    expect(r.speedFps).toBeCloseTo(10, 12);
  });

  it('speed is the mean of 1/t over positive times; NaN and 0 are ignored; null without times', () => {
    expect(summarizeGot10k([1], [0.5, 0, Number.NaN, 0.25]).speedFps).toBe(3);
    expect(summarizeGot10k([1]).speedFps).toBeNull();
    expect(summarizeGot10k([]).averageOverlap).toBeNaN();
  });
});

describe('OTB and LaSOT protocols (got10k toolkit)', () => {
  const gt = [box(10, 10, 20, 20), box(10, 10, 20, 20), box(10, 10, 20, 20)];

  it('replaces the first prediction by the ground truth', () => {
    const r = evaluate([{ groundTruth: gt, predictions: [box(300, 300, 1, 1), gt[1] as Box, gt[2] as Box] }], { protocol: 'otb' });
    expect(r.successScore).toBeCloseTo(20 / 21, 15);
    expect(r.precision).toBe(1);
  });

  it('averages per-sequence curves, so short sequences weigh as much as long ones', () => {
    const long = { groundTruth: [...gt, ...gt, ...gt], predictions: [...gt, ...gt, ...gt] };
    const short = { groundTruth: gt.slice(0, 2), predictions: [gt[0] as Box, box(300, 300, 5, 5)] };
    const r = evaluate([long, short], { protocol: 'otb' });
    expect(r.successRate).toBe(0.75);
  });

  it('precision counts an error of exactly 20 px (<=) and success needs IoU > threshold', () => {
    const shifted = box(10, 30, 20, 20); // centre error exactly 20, touching edges: IoU 0
    const r = evaluate([{ groundTruth: gt.slice(0, 2), predictions: [gt[0] as Box, shifted] }], { protocol: 'otb' });
    expect(r.precision).toBe(1);
    expect(r.precisionCurve[19]).toBe(0.5);
    expect(r.successCurve[0]).toBe(0.5);
  });

  it('LaSOT drops frames with NaN ground truth; other protocols reject NaN', () => {
    const sequence: EvaluatedSequence = {
      groundTruth: [gt[0] as Box, box(Number.NaN, Number.NaN, Number.NaN, Number.NaN), gt[2] as Box],
      predictions: [gt[0] as Box, box(300, 300, 5, 5), gt[2] as Box],
    };
    const r = evaluate([sequence], { protocol: 'lasot' });
    // Perfect on the kept frames: every threshold but IoU > 1.
    expect(r.successScore).toBeCloseTo(20 / 21, 15);
    expect(r.normalizedPrecision).toBe(1);
    expect(() => evaluate([sequence], { protocol: 'otb' })).toThrow(InvalidBoxError);
  });
});

describe('pytracking protocol', () => {
  it('a zero-size prediction copies the previous (already copied) one; frame 0 becomes the GT', () => {
    const gt = [box(5, 5, 10, 10), box(5, 5, 10, 10), box(5, 5, 10, 10), box(5, 5, 10, 10)];
    const pred = [box(1, 1, 3, 3), box(6, 6, 10, 10), box(0, 0, 0, 5), box(9, 9, 5, 0)];
    const cleaned = pytrackingCleanPredictions(pred, gt);
    expect(cleaned).toEqual([gt[0], box(6, 6, 10, 10), box(6, 6, 10, 10), box(6, 6, 10, 10)]);
    // A zero-size prediction at frame 1 copies the tracker's own frame-0 box, not the GT.
    expect(pytrackingCleanPredictions([box(1, 1, 3, 3), box(0, 0, 0, 0)], gt.slice(0, 2))[1]).toEqual(box(1, 1, 3, 3));
  });

  it('a GT box at x = 0 or y = 0 is invalid (overlap -1, error +inf, normalized error -1); not with OSTrack rule', () => {
    const gt = [box(5, 5, 10, 10), box(0, 5, 10, 10)];
    const pred = [box(5, 5, 10, 10), box(0, 5, 10, 10)];
    const e = pytrackingFrameErrors(pred, gt, undefined);
    expect(e.valid).toEqual([true, false]);
    expect(e.overlaps[1]).toBe(-1);
    expect(e.centerErrors[1]).toBe(Number.POSITIVE_INFINITY);
    expect(e.normalizedCenterErrors[1]).toBe(-1);
    const o = pytrackingFrameErrors(pred, gt, undefined, { validity: 'ostrack' });
    expect(o.valid).toEqual([true, true]);
    expect(o.overlaps[1]).toBe(1);
  });

  it('invalid frames fail success and precision but pass normalized precision (pytracking quirk); LaSOT makes them fail', () => {
    const gt = [box(5, 5, 10, 10), box(5, 5, 10, 10)];
    const seq = { groundTruth: gt, predictions: gt, visible: [true, false] };
    const r = evaluate([seq], { protocol: 'pytracking' });
    expect(r.auc).toBeCloseTo(50 * (20 / 21), 4);
    expect(r.precision).toBe(50);
    expect(r.normalizedPrecision).toBe(100);
    expect(r.perSequence[0]?.averageOverlap).toBe(1);
    const lasot = evaluate([seq], { protocol: 'pytracking', dataset: 'lasot' });
    expect(lasot.normalizedPrecision).toBe(50);
  });

  it('uav: NaN ground truth marks invalid frames whose centre error is -1, so they pass precision', () => {
    const nan = box(Number.NaN, Number.NaN, Number.NaN, Number.NaN);
    const gt = [box(5, 5, 10, 10), nan];
    const seq = { groundTruth: gt, predictions: [box(5, 5, 10, 10), box(0, 0, 0, 0)] };
    expect(() => evaluate([seq], { protocol: 'pytracking' })).toThrow(InvalidBoxError);
    const r = evaluate([seq], { protocol: 'pytracking', dataset: 'uav' });
    expect(r.precision).toBe(100);
    expect(r.op50).toBe(50);
    // The empty prediction on the unannotated frame is kept, not replaced by the previous one.
    expect(pytrackingCleanPredictions(seq.predictions, gt)[1]).toEqual(box(0, 0, 0, 0));
  });

  it('excludeInvalidFrames divides by the valid count; no valid frame is an error then', () => {
    const gt = [box(5, 5, 10, 10), box(5, 5, 10, 10)];
    const r = evaluate([{ groundTruth: gt, predictions: gt, visible: [true, false] }], {
      protocol: 'pytracking',
      excludeInvalidFrames: true,
    });
    expect(r.precision).toBe(100);
    expect(() =>
      evaluate([{ groundTruth: gt, predictions: gt, visible: [false, false] }], { protocol: 'pytracking', excludeInvalidFrames: true }),
    ).toThrow(/Expected at least one valid frame for sequence "sequence 0" but received 0/);
  });

  it('scores are percent and OP50/OP75 are the curve at 0.50/0.75', () => {
    const gt = [box(10, 10, 20, 20), box(10, 10, 20, 20)];
    const r = evaluate([{ groundTruth: gt, predictions: [gt[0] as Box, box(10, 10, 20, 12)] }], { protocol: 'pytracking' });
    // Frame 1 IoU = 0.6: counts at 0.50, not at 0.75.
    expect(r.op50).toBe(100);
    expect(r.op75).toBe(50);
  });
});

describe('input validation', () => {
  const gt = [box(0, 0, 10, 10), box(0, 0, 10, 10)];

  it('rejects mismatched lengths with a message naming the sequence', () => {
    expect(() => evaluate([{ name: 'car', groundTruth: gt, predictions: gt.slice(1) }], { protocol: 'otb' })).toThrow(
      new InvalidArgumentError('Expected 2 predictions (one per ground-truth frame) for sequence "car" but received 1'),
    );
    expect(() => evaluate([{ groundTruth: gt, predictions: gt, times: [1] }], { protocol: 'got10k' })).toThrow(
      /Expected 2 entries \(one per ground-truth frame\) for times of sequence 0 but received 1/,
    );
  });

  it('rejects non-finite coordinates and negative sizes as InvalidBoxError', () => {
    expect(() => evaluate([{ groundTruth: gt, predictions: [gt[0] as Box, box(0, Number.NaN, 1, 1)] }], { protocol: 'otb' })).toThrow(
      'Expected a finite y for predictions[1] of sequence 0 but received NaN',
    );
    expect(() => evaluate([{ groundTruth: gt, predictions: [gt[0] as Box, box(0, 0, -3, 1)] }], { protocol: 'pytracking' })).toThrow(
      'Expected a finite non-negative width for predictions[1] of sequence 0 but received -3',
    );
  });

  it('rejects empty input, an unknown protocol and a bad image size', () => {
    expect(() => evaluate([], { protocol: 'otb' })).toThrow('Expected at least one sequence but received 0');
    expect(() => evaluate([{ groundTruth: gt, predictions: gt }], { protocol: 'vot' as 'otb' })).toThrow(
      'Expected protocol "got10k", "otb", "lasot" or "pytracking" for evaluate options but received "vot"',
    );
    expect(() =>
      evaluate([{ groundTruth: gt, predictions: gt, imageSize: { width: 0, height: 5 } }], { protocol: 'got10k' }),
    ).toThrow('Expected a finite positive width for imageSize of sequence 0 but received 0');
  });

  it('leaves inputs untouched', () => {
    const seq: EvaluatedSequence = Object.freeze({
      groundTruth: Object.freeze(gt.map(frozen)),
      predictions: Object.freeze([frozen(box(-5, -5, 30, 30)), frozen(box(0, 0, 0, 0))]),
      imageSize: Object.freeze({ width: 8, height: 8 }),
    });
    for (const protocol of ['got10k', 'otb', 'lasot', 'pytracking'] as const) {
      expect(() => evaluate([seq], { protocol })).not.toThrow();
    }
    expect(seq.predictions[0]).toEqual(box(-5, -5, 30, 30));
  });
});
