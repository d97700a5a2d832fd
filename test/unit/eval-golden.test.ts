// The golden numbers of evaluation.md §3.3 and bit-exact agreement with both toolkits on
// random cases (test/fixtures/eval/oracle-random.json, made by test/fixtures/eval/oracles/).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  evaluate,
  got10kCenterError,
  got10kIous,
  got10kNormalizedCenterError,
  summarizeGot10k,
  torchMeanOverRows,
  torchSum,
  type EvaluatedSequence,
} from '../../lib/eval/index.js';
import type { Box } from '../../lib/geometry/box.js';

type Quad = [number, number, number, number];
const boxes = (rows: Quad[]): Box[] => rows.map(([x, y, width, height]) => ({ x, y, width, height }));
const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/eval/${name}`, import.meta.url), 'utf8')) as T;

function expectClose(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}
function expectAllClose(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expectClose(v, expected[i] as number, tolerance));
}

interface CaseG {
  imageSize: [number, number];
  times: number[];
  groundTruth: Quad[];
  predictions: Quad[];
  expected: {
    iou: number[];
    iouBounded: number[];
    centerError: number[];
    normalizedCenterError: number[];
    got10k: { averageOverlap: number; successRate50: number; successRate75: number; speedFps: number };
    otb: { successScore: number; precision: number; successRate: number; successCurve: number[] };
    lasot: { normalizedPrecision: number };
  };
}

describe('golden case G (got10k toolkit)', () => {
  const g = fixture<CaseG>('golden-case-g.json');
  const gt = boxes(g.groundTruth);
  const pred = boxes(g.predictions);
  const bound = { width: g.imageSize[0], height: g.imageSize[1] };
  const tol = 1e-9;

  it('IoU, bounded IoU, centre error and normalized centre error per frame', () => {
    expectAllClose(got10kIous(pred, gt), g.expected.iou, tol);
    expectAllClose(got10kIous(pred, gt, bound), g.expected.iouBounded, tol);
    expectAllClose(
      pred.map((p, i) => got10kCenterError(p, gt[i] as Box)),
      g.expected.centerError,
      tol,
    );
    expectAllClose(
      pred.map((p, i) => got10kNormalizedCenterError(p, gt[i] as Box)),
      g.expected.normalizedCenterError,
      tol,
    );
  });

  it('bit-identical to the toolkit where JavaScript and numpy round alike', () => {
    expect(got10kIous(pred, gt, bound)).toEqual(g.expected.iouBounded);
    expect(pred.map((p, i) => got10kNormalizedCenterError(p, gt[i] as Box))).toEqual(g.expected.normalizedCenterError);
  });

  it('GOT-10k summary (AO, SR0.5, SR0.75, speed) of the bounded IoUs, all frames as given', () => {
    const s = summarizeGot10k(got10kIous(pred, gt, bound), g.times);
    expectClose(s.averageOverlap, g.expected.got10k.averageOverlap, tol);
    expectClose(s.successRate50, g.expected.got10k.successRate50, tol);
    expectClose(s.successRate75, g.expected.got10k.successRate75, tol);
    expectClose(s.speedFps as number, g.expected.got10k.speedFps, tol);
    expect(s.successCurve).toHaveLength(101);
  });

  it('GOT-10k protocol drops frame 0, so a dummy first frame leaves the numbers unchanged', () => {
    const dummy: Box = { x: 1, y: 1, width: 5, height: 5 };
    const far: Box = { x: 200, y: 200, width: 5, height: 5 };
    const r = evaluate(
      [
        {
          groundTruth: [dummy, ...gt],
          predictions: [far, ...pred],
          times: [0.5, ...g.times],
          imageSize: bound,
          cover: [8, 8, 8, 8, 8, 8, 8],
        },
      ],
      { protocol: 'got10k' },
    );
    expectClose(r.averageOverlap, g.expected.got10k.averageOverlap, tol);
    expectClose(r.successRate50, g.expected.got10k.successRate50, tol);
    expectClose(r.successRate75, g.expected.got10k.successRate75, tol);
    expect(r.frameCount).toBe(6);
    // Speed pools every positive time, the first frame's too (the toolkit reads the whole time file).
    expectClose(r.speedFps as number, (g.expected.got10k.speedFps * 6 + 2) / 7, 1e-9);
  });

  it('OTB success AUC, precision at 20 px, success rate and the 21-point curve', () => {
    const r = evaluate([{ groundTruth: gt, predictions: pred }], { protocol: 'otb' });
    expectClose(r.successScore, g.expected.otb.successScore, tol);
    expectClose(r.precision, g.expected.otb.precision, tol);
    expectClose(r.successRate, g.expected.otb.successRate, tol);
    expectAllClose(r.successCurve, g.expected.otb.successCurve, tol);
  });

  it('LaSOT normalized precision (mean of the 51-point curve)', () => {
    const r = evaluate([{ groundTruth: gt, predictions: pred }], { protocol: 'lasot' });
    expectClose(r.normalizedPrecision, g.expected.lasot.normalizedPrecision, tol);
    expect(r.normalizedPrecisionCurve).toHaveLength(51);
  });
});

interface CaseP {
  sequences: { name: string; groundTruth: Quad[]; predictions: Quad[] }[];
  expected: {
    auc: number;
    op50: number;
    op75: number;
    precision: number;
    normalizedPrecision: number;
    averageOverlap: number[];
  };
}

describe('golden case P (pytracking)', () => {
  const p = fixture<CaseP>('golden-case-p.json');
  const sequences = p.sequences.map((s) => ({
    name: s.name,
    groundTruth: boxes(s.groundTruth),
    predictions: boxes(s.predictions),
  }));

  it('AUC, OP50, OP75, Precision, NormPrecision and per-sequence average overlap', () => {
    const r = evaluate(sequences, { protocol: 'pytracking' });
    const tol = 1e-5;
    expectClose(r.auc, p.expected.auc, tol);
    expectClose(r.op50, p.expected.op50, tol);
    expectClose(r.op75, p.expected.op75, tol);
    expectClose(r.precision, p.expected.precision, tol);
    expectClose(r.normalizedPrecision, p.expected.normalizedPrecision, tol);
    expectAllClose(
      r.perSequence.map((s) => s.averageOverlap),
      p.expected.averageOverlap,
      tol,
    );
  });

  it('reproduces torch float32 summation order exactly (a naive float32 sum misses AUC by 1.1e-5)', () => {
    const r = evaluate(sequences, { protocol: 'pytracking' });
    expect(r.auc).toBe(p.expected.auc);
    expect(r.op50).toBe(p.expected.op50);
    expect(r.precision).toBe(p.expected.precision);
    const naiveSum = r.successCurve.reduce((a, b) => Math.fround(a + b), 0);
    const naiveMean = Math.fround(naiveSum / r.successCurve.length);
    expect(Math.abs(naiveMean - p.expected.auc)).toBeGreaterThan(1e-5);
  });
});

interface Got10kToolkitExpectations {
  firstSequenceFrames: { iou: number[]; iouBounded: number[]; centerError: number[]; normalizedCenterError: number[] };
  got10k: { ao: number; sr50: number; sr75: number; speed: number; curve: number[] };
  otb: {
    auc: number;
    prec20: number;
    sr50: number;
    speed: number;
    succ_curve: number[];
    prec_curve: number[];
    norm_prec: number;
    norm_prec_curve: number[];
  };
}

interface PytrackingExpectations {
  auc: number;
  op50: number;
  op75: number;
  prec: number;
  norm_prec: number;
  avg_overlap: number[];
  auc_curve: number[];
  prec_curve: number[];
  norm_prec_curve: number[];
}

/** One case of oracle-random.json; the got10k toolkit fields are absent in the UAV-style cases. */
interface RandomCaseJson extends Partial<Got10kToolkitExpectations> {
  sequences: {
    name: string;
    /** null marks an unannotated (NaN) coordinate in the UAV-style cases. */
    groundTruth: (number | null)[][];
    predictions: Quad[];
    cover?: number[];
    visible: boolean[];
    times?: number[];
    imageSize?: [number, number];
  }[];
  pytrackingOptions: { dataset: 'default' | 'lasot' | 'uav'; excludeInvalidFrames: boolean };
  pytracking: PytrackingExpectations;
}

// oracle-random.json: 15 cases of 1-4 short sequences; oracle-random-many.json: 4 cases of
// 20-39 sequences, where torch's column-block reductions of the 51-point curves show.
describe.each(['oracle-random.json', 'oracle-random-many.json'])('random cases of %s: bit-identical to both toolkits', (file) => {
  const raw = fixture<RandomCaseJson[]>(file);
  const cases = raw.map((c) => ({
    pytrackingOptions: c.pytrackingOptions,
    pytracking: c.pytracking,
    toolkit: c.got10k && c.otb && c.firstSequenceFrames ? (c as Got10kToolkitExpectations) : undefined,
    sequences: c.sequences.map(
      (s): EvaluatedSequence => ({
        ...s,
        groundTruth: boxes(s.groundTruth.map((row) => row.map((v) => v ?? Number.NaN) as Quad)),
        predictions: boxes(s.predictions),
        imageSize: s.imageSize ? { width: s.imageSize[0], height: s.imageSize[1] } : undefined,
      }),
    ),
  }));

  it('covers every protocol variant', () => {
    expect(cases.filter((c) => c.toolkit).length).toBeGreaterThanOrEqual(3);
    const datasets = new Set(cases.map((c) => c.pytrackingOptions.dataset));
    expect([...datasets].sort()).toEqual(['default', 'lasot', 'uav']);
  });

  it.each(cases.filter((c) => c.toolkit).map((c, i) => [i, c] as const))('got10k toolkit, case %i', (_index, c) => {
    const sequences = c.sequences;
    const expected = c.toolkit as Got10kToolkitExpectations;
    const first = sequences[0] as EvaluatedSequence;
    expect(got10kIous(first.predictions, first.groundTruth)).toEqual(expected.firstSequenceFrames.iou);
    expect(got10kIous(first.predictions, first.groundTruth, first.imageSize)).toEqual(expected.firstSequenceFrames.iouBounded);
    expect(first.predictions.map((p, i) => got10kCenterError(p, first.groundTruth[i] as Box))).toEqual(
      expected.firstSequenceFrames.centerError,
    );
    expect(first.predictions.map((p, i) => got10kNormalizedCenterError(p, first.groundTruth[i] as Box))).toEqual(
      expected.firstSequenceFrames.normalizedCenterError,
    );

    const g = evaluate(sequences, { protocol: 'got10k' });
    expect([g.averageOverlap, g.successRate50, g.successRate75, g.speedFps]).toEqual([
      expected.got10k.ao,
      expected.got10k.sr50,
      expected.got10k.sr75,
      expected.got10k.speed,
    ]);
    expect(g.successCurve).toEqual(expected.got10k.curve);

    const o = evaluate(sequences, { protocol: 'otb' });
    expect([o.successScore, o.precision, o.successRate, o.speedFps]).toEqual([
      expected.otb.auc,
      expected.otb.prec20,
      expected.otb.sr50,
      expected.otb.speed,
    ]);
    expect(o.successCurve).toEqual(expected.otb.succ_curve);
    expect(o.precisionCurve).toEqual(expected.otb.prec_curve);

    const l = evaluate(sequences, { protocol: 'lasot' });
    expect(l.normalizedPrecision).toBe(expected.otb.norm_prec);
    expect(l.normalizedPrecisionCurve).toEqual(expected.otb.norm_prec_curve);
  });

  it.each(cases.map((c, i) => [i, c] as const))('pytracking, case %i', (_index, c) => {
    const sequences = c.sequences;
    const p = evaluate(sequences, { protocol: 'pytracking', ...c.pytrackingOptions });
    const q = c.pytracking;
    expect([p.auc, p.op50, p.op75, p.precision, p.normalizedPrecision]).toEqual([
      q.auc,
      q.op50,
      q.op75,
      q.prec,
      q.norm_prec,
    ]);
    expect(p.perSequence.map((s) => s.averageOverlap)).toEqual(q.avg_overlap);
    expect(p.successCurve).toEqual(q.auc_curve);
    expect(p.precisionCurve).toEqual(q.prec_curve);
    expect(p.normalizedPrecisionCurve).toEqual(q.norm_prec_curve);
  });
});

interface TorchReductions {
  meanOverRows: { rows: number[][]; float32: number[]; float64: number[] }[];
  sum: { values: number[]; float32: number; float64: number }[];
}

describe('torch reduction emulation (test/fixtures/eval/torch-reductions.json, torch 1.13 CPU)', () => {
  const t = fixture<TorchReductions>('torch-reductions.json');

  it.each(t.meanOverRows.map((m) => [m.rows.length, (m.rows[0] as number[]).length, m] as const))(
    'mean over %i rows of %i columns',
    (_rows, columns, m) => {
      expect(torchMeanOverRows(m.rows, columns, 'float32')).toEqual(m.float32);
      expect(torchMeanOverRows(m.rows, columns, 'float64')).toEqual(m.float64);
    },
  );

  it.each(t.sum.map((s) => [s.values.length, s] as const))('sum of %i values', (_n, s) => {
    expect(torchSum(s.values, 'float32')).toBe(s.float32);
    expect(torchSum(s.values, 'float64')).toBe(s.float64);
  });
});
