/**
 * Training (Python) vs inference (TypeScript) consistency. Every expected value comes from
 * test/fixtures/consistency/training-golden.json, written by scripts/make-consistency-fixture.py
 * from the training package's own functions (augment.crop_params, box_to_crop, quantize_corners,
 * losses.dequantize, data.TrackingSamples._build, model.decode_outputs, schedule, noise, config).
 * Integers must match exactly, floats to 1e-12. docs/consistency.md maps each check to the
 * functions on both sides and lists the known disagreements (the `it.fails` cases below).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CropParams } from '../../lib/engine/types.js';
import { InvalidBoxError } from '../../lib/errors.js';
import { type Box, boxCenter, toXYXY } from '../../lib/geometry/box.js';
import { cropAround, imageToCrop } from '../../lib/geometry/crop.js';
import { B256_CONFIG, TINY_CONFIG, modelConfigToJson, parseModelConfig, tokenizerConfigOf } from '../../lib/model/config.js';
import { alphaBar, cosineSchedule } from '../../lib/model/schedule.js';
import {
  BEGIN_TOKEN,
  END_TOKEN,
  boxToTokens,
  coordinateTokenCount,
  dequantize,
  maxQuantizedToken,
  quantize,
  type TokenizerConfig,
} from '../../lib/model/tokenizer.js';
import { decodedEstimate, frameScore, priorTokens, searchCropFor, templateCropFor, tokenizerOf } from '../../lib/tracker/reference.js';
import { planWindow, splitmix64, windowTimesteps } from '../../lib/tracker/window.js';

type Xywh = [number, number, number, number];

interface CropCase {
  kind: 'random' | 'tie' | 'near-tie' | 'exact-side' | 'side-above-integer' | 'tiny' | 'reject';
  box: Xywh;
  factor: number;
  out: number;
  result: [number, number, number] | null;
  normalized?: Xywh;
  corners?: Xywh;
  tokens?: [number, number, number, number];
}

interface GridSection {
  bins: number;
  range_min: number;
  range_max: number;
  values: number[];
}

interface ClipCase {
  clip_len: number;
  overlap: number;
  frames: number[];
  boxes: Xywh[];
  template_box: Xywh;
  dynamic_reference: Xywh;
  reference: Xywh;
  crop_calls: Array<[number, number, number, number, number]>;
  target: number[][];
  prior: number[][];
  timesteps: number[];
  valid: boolean[];
  template_frame: number;
  dynamic_frame: number;
}

interface Fixture {
  model: unknown;
  crops: CropCase[];
  quantize: Array<GridSection & { max_token: number; tokens: number[] }>;
  dequantize: Array<GridSection & { coordinate_tokens: number; begin: number; end: number }>;
  clips: ClipCase[];
  scores: Array<{ tokens: number[][]; scores: number[][]; frame_scores: number[] }>;
  schedule: { T: number; s: number; t_new: number; t_refine: number; t: number[]; alphas_cumprod: number[]; signal_f32: number[]; noise_f32: number[] };
  splitmix64: Array<{ x: string; out: string }>;
  configs: Record<string, unknown>;
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/consistency/training-golden.json', import.meta.url), 'utf8'),
) as Fixture;

const FLOAT_TOLERANCE = 1e-12;
const model = parseModelConfig(fixture.model);
/** The sizes the tracker reads from a model file, for the tiny model the fixture was made with. */
const modelInfo = {
  searchSize: model.encoder.searchSize,
  templateSize: model.encoder.templateSize,
  searchFactor: model.encoder.searchFactor,
  templateFactor: model.encoder.templateFactor,
  bins: model.tokens.bins,
};
const tokenizer = tokenizerConfigOf(model);

const toBox = (b: readonly number[]): Box => ({ x: b[0] as number, y: b[1] as number, width: b[2] as number, height: b[3] as number });
const cropTuple = (c: CropParams): number[] => [c.x0, c.y0, c.side, c.outputSize];
const gridOf = (g: GridSection): TokenizerConfig => ({ bins: g.bins, rangeMin: g.range_min, rangeMax: g.range_max });

function expectClose(actual: readonly number[], expected: readonly number[], tolerance = FLOAT_TOLERANCE): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => {
    const e = expected[i] as number;
    if (Math.abs(v - e) > tolerance) expect.fail(`index ${i}: ${v} vs ${e} (|diff| ${Math.abs(v - e)} > ${tolerance})`);
  });
}

/** The inference window whose roles match a training clip of `clipLength` frames with `overlap` refined ones. */
function inferenceWindow(clipLength: number, overlap: number) {
  const N = model.decoder.clipLen;
  if (clipLength < N) {
    // The first window of a sequence: frame 0 (known box) plus `stride` new frames.
    const stride = clipLength - 1;
    return planWindow(0, stride, stride, N);
  }
  const stride = N - overlap;
  const lastEstimated = 30;
  return planWindow(lastEstimated, lastEstimated + stride, stride, N);
}

describe('fixture coverage (the checks below only mean something if the hard cases are there)', () => {
  it('has a few hundred crops, with exact .5 ties on both signs and boxes leaving the image', () => {
    const crops = fixture.crops;
    expect(crops.length).toBeGreaterThanOrEqual(300);
    const ties = crops.filter((c) => c.kind === 'tie');
    expect(ties.length).toBeGreaterThanOrEqual(50);
    // A tie rounds to the even neighbour, and half of them would come out differently with
    // JavaScript's Math.round (half up): the check has teeth.
    const halfUpDiffers = ties.filter((c) => {
      const side = (c.result as number[])[2] as number;
      return Math.round(boxCenter(toBox(c.box)).x - side / 2) !== (c.result as number[])[0];
    });
    expect(halfUpDiffers.length).toBeGreaterThan(10);
    expect(ties.some((c) => ((c.result as number[])[0] as number) < 0)).toBe(true);
    expect(crops.filter((c) => c.kind === 'random' && (c.box[0] < 0 || c.box[1] < 0)).length).toBeGreaterThan(10);
    expect(crops.filter((c) => c.result === null).length).toBeGreaterThanOrEqual(3);
  });

  it('has clips for every overlap 0..5 and the 4-frame first window', () => {
    const layouts = new Set(fixture.clips.map((c) => `${c.clip_len}/${c.overlap}`));
    expect([...layouts].sort()).toEqual(['4/1', '6/0', '6/1', '6/2', '6/3', '6/4', '6/5']);
  });
});

describe('configs: the training package and lib/model/config.ts describe the same models', () => {
  it.each(Object.entries(fixture.configs))('%s parses and serializes back to the Python dict', (_name, json) => {
    expect(modelConfigToJson(parseModelConfig(json))).toEqual(json);
  });

  it('the TypeScript tiny and b256 constants equal the Python ones', () => {
    expect(parseModelConfig(fixture.configs.tiny)).toEqual(TINY_CONFIG);
    expect(parseModelConfig(fixture.configs.b256)).toEqual(B256_CONFIG);
  });

  it('the tokenizer constants equal the training config', () => {
    expect(model.tokens.begin).toBe(BEGIN_TOKEN);
    expect(model.tokens.end).toBe(END_TOKEN);
    expect(coordinateTokenCount(tokenizer)).toBe(model.tokens.begin);
  });
});

describe('crop: augment.crop_params vs cropAround (sample_target)', () => {
  const accepted = fixture.crops.filter((c) => c.result !== null);
  const rejected = fixture.crops.filter((c) => c.result === null);

  it(`gives the same integer corner and side on all ${accepted.length} accepted boxes`, () => {
    const mismatches = accepted.filter((c) => {
      const crop = cropAround(boxCenter(toBox(c.box)), toBox(c.box), c.factor, c.out);
      return cropTuple(crop).join() !== [...(c.result as number[]), c.out].join();
    });
    expect(mismatches.map((c) => `${c.kind} ${c.box.join(',')} ×${c.factor}`)).toEqual([]);
  });

  it.each(rejected.map((c) => [c.box.join(', '), c] as const))('rejects the box the training code rejects: [%s]', (_label, c) => {
    expect(() => cropAround(boxCenter(toBox(c.box)), toBox(c.box), c.factor, c.out)).toThrow(InvalidBoxError);
  });

  it('normalizes each box into its crop exactly as box_to_crop, corners and quantize_corners do', () => {
    for (const c of accepted) {
      const [x0, y0, side] = c.result as [number, number, number];
      const crop: CropParams = { x0, y0, side, outputSize: c.out };
      const normalized = imageToCrop(toBox(c.box), crop);
      expectClose([normalized.x, normalized.y, normalized.width, normalized.height], c.normalized as Xywh);
      expectClose(toXYXY(normalized), c.corners as Xywh);
      expect(boxToTokens(normalized, tokenizer)).toEqual(c.tokens);
    }
  });
});

describe('tokens: quantize_corners / losses.quantize and losses.dequantize vs lib/model/tokenizer.ts', () => {
  it.each(fixture.quantize.map((g) => [g.bins, g.range_min, g] as const))('quantize, %i bins from %f', (_bins, _min, g) => {
    const cfg = gridOf(g);
    expect(maxQuantizedToken(cfg)).toBe(g.max_token);
    expect(g.values.map((v) => quantize(v, cfg))).toEqual(g.tokens);
  });

  it.each(fixture.dequantize.map((g) => [g.bins, g.range_min, g] as const))('dequantize every token, %i bins from %f', (_bins, _min, g) => {
    const cfg = gridOf(g);
    expect(coordinateTokenCount(cfg)).toBe(g.coordinate_tokens);
    expect(coordinateTokenCount(cfg)).toBe(g.begin);
    expect(g.end).toBe(g.begin + 1);
    expectClose(Array.from({ length: g.coordinate_tokens }, (_, k) => dequantize(k, cfg)), g.values);
  });
});

describe('clips: TrackingSamples._build (jitter-free, refinement case) vs the tracker window', () => {
  it.each(fixture.clips.map((c, i) => [i, c.clip_len, c.overlap, c] as const))(
    'clip %i (N=%i, overlap %i): crops, targets, priors and timesteps agree',
    (_i, _n, overlap, c) => {
      // Unified reference: every search frame is cropped with the reference box's crop.
      const crop = searchCropFor(toBox(c.reference), modelInfo);
      const [template0, template1, ...search] = c.crop_calls;
      expect(search.map((call) => call[0])).toEqual(c.frames);
      for (const call of search) expect(call.slice(1)).toEqual(cropTuple(crop));
      // With zero jitter the reference is the first frame's box, as for the tracker's first window.
      expect(cropTuple(searchCropFor(toBox(c.boxes[0] as Xywh), modelInfo))).toEqual(cropTuple(crop));

      // Templates: factor 2 around the template box (template 0) and the dynamic box (template 1).
      expect(template0).toEqual([c.template_frame, ...cropTuple(templateCropFor(toBox(c.template_box), modelInfo))]);
      expect(template1).toEqual([c.dynamic_frame, ...cropTuple(templateCropFor(toBox(c.dynamic_reference), modelInfo))]);

      // Targets: [Begin, x1, y1, x2, y2, End] of each frame's box in the clip crop.
      const boxes = c.boxes.map(toBox);
      const coords = priorTokens(boxes, crop, tokenizer);
      c.target.forEach((row, f) => {
        expect(row).toEqual([BEGIN_TOKEN, ...coords.subarray(4 * f, 4 * f + 4), END_TOKEN]);
      });
      expect(c.valid.every(Boolean)).toBe(true);

      // Frame order, roles and timesteps: re-estimated (overlap) frames first, oldest first.
      const plan = inferenceWindow(c.clip_len, overlap);
      expect(plan.frames).toHaveLength(c.clip_len);
      expect(plan.roles.filter((r) => r === 'refine')).toHaveLength(overlap);
      expect(Array.from(windowTimesteps(plan.roles, model.diffusion.tNew, model.diffusion.tRefine))).toEqual(c.timesteps);

      // Priors: re-estimated frames carry their (earlier) boxes in the new crop, new frames the
      // crop's reference box, exactly what Tracker passes to the engine.
      const priorBoxes = plan.roles.map((role, f) => (role === 'refine' ? (boxes[f] as Box) : toBox(c.reference)));
      expect(Array.from(priorTokens(priorBoxes, crop, tokenizer))).toEqual(c.prior.flat());
    },
  );
});

describe('scores: model.decode_outputs vs the tracker frame score', () => {
  it('a frame score is the mean of the 4 coordinate slots\' top-1 probabilities', () => {
    for (const s of fixture.scores) {
      const flat = s.scores.flat();
      s.frame_scores.forEach((expected, f) => {
        // Python averages four float32 values in float32; allow its rounding (2^-23 relative).
        expect(Math.abs(frameScore(flat, f) - expected)).toBeLessThanOrEqual(2 ** -23 * expected + 1e-12);
      });
    }
  });

  it('a [Begin]/[End] token in a coordinate slot makes the tracker fall back to the prior with score 0', () => {
    const crop = searchCropFor({ x: 100, y: 100, width: 40, height: 30 }, modelInfo);
    const prior = priorTokens([{ x: 100, y: 100, width: 40, height: 30 }], crop, tokenizer);
    let special = 0;
    for (const s of fixture.scores) {
      s.tokens.forEach((frameTokens, f) => {
        const scoresOfFrame = s.scores[f] as number[];
        const priorOfFrame = new Int32Array(4 * s.tokens.length);
        priorOfFrame.set(prior, 4 * f);
        const estimate = decodedEstimate(s.tokens.flat(), s.scores.flat(), priorOfFrame, f, crop, tokenizer, {
          imageWidth: 640,
          imageHeight: 480,
        });
        if (frameTokens.some((k) => k >= BEGIN_TOKEN)) {
          special += 1;
          expect(estimate.score).toBe(0);
        } else {
          expect(estimate.score).toBeCloseTo(scoresOfFrame.reduce((a, b) => a + b, 0) / 4, 12);
        }
      });
    }
    expect(special).toBeGreaterThan(0);
  });
});

describe('schedule and seeds: training/sctdiff/schedule.py and noise.py vs lib', () => {
  it('abar(t) at t_new, t_refine and elsewhere agrees to 1e-12 (relative)', () => {
    const g = fixture.schedule;
    expect([g.t_new, g.t_refine]).toEqual([model.diffusion.tNew, model.diffusion.tRefine]);
    const schedule = cosineSchedule(g.T, g.s);
    g.t.forEach((t, i) => {
      const expected = g.alphas_cumprod[i] as number;
      expect(Math.abs(alphaBar(schedule, t) / expected - 1)).toBeLessThanOrEqual(FLOAT_TOLERANCE);
      // The engines cast sqrt(abar) and sqrt(1 − abar) to float32 once.
      expect(Math.fround(Math.sqrt(alphaBar(schedule, t)))).toBe(g.signal_f32[i]);
      expect(Math.fround(Math.sqrt(1 - alphaBar(schedule, t)))).toBe(g.noise_f32[i]);
    });
  });

  it('splitmix64 is the same mixer', () => {
    for (const { x, out } of fixture.splitmix64) expect(splitmix64(BigInt(x))).toBe(BigInt(out));
  });
});

describe('fixed disagreements (docs/consistency.md)', () => {
  // D1: the tracker builds its tokenizer from EngineModelInfo, which carries `bins` but not
  // range_min/range_max, and fills the range with ARTrack's [-0.5, 1.5]. A model trained with
  // another range (valid for both config validators) would be tokenized on the wrong grid.
  it('the tracker tokenizes on the model\'s own range_min/range_max', () => {
    const other = fixture.dequantize.find((g) => g.range_min !== -0.5) as GridSection;
    const json = structuredClone(fixture.configs.tiny) as { tokens: Record<string, number> };
    Object.assign(json.tokens, { bins: other.bins, range_min: other.range_min, range_max: other.range_max });
    Object.assign(json.tokens, { begin: 2 * other.bins, end: 2 * other.bins + 1, vocab: 2 * other.bins + 2 });
    const cfg = parseModelConfig(json);
    // Everything the model file says about the grid; the cast keeps this compiling once
    // EngineModelInfo gains rangeMin/rangeMax (then turn `it.fails` into `it`).
    const info = { bins: cfg.tokens.bins, rangeMin: cfg.tokens.rangeMin, rangeMax: cfg.tokens.rangeMax } as Parameters<typeof tokenizerOf>[0];
    expect(tokenizerOf(info)).toEqual(tokenizerConfigOf(cfg));
  });
});
