import { describe, expect, it } from 'vitest';
import type { DecodeResult } from '../../lib/engine/types.js';
import type { Box } from '../../lib/geometry/box.js';
import { DEFAULT_TOKENIZER, coordinateTokenCount } from '../../lib/model/tokenizer.js';
import { combineDraws, drawSeed } from '../../lib/tracker/draws.js';
import { Tracker, type TrackResult, type TrackerOptions } from '../../lib/tracker/index.js';
import { decodeSeed } from '../../lib/tracker/window.js';
import { TestEngine, type TestEngineOptions, iou, makeTestFrame, syntheticTrajectory } from '../helpers/test-engine.js';

/** A decode result from per-frame [tokens, score] (the score written to all four slots). */
const draw = (...frames: [number[], number][]): DecodeResult => ({
  tokens: Int32Array.from(frames.flatMap(([t]) => t)),
  scores: Float32Array.from(frames.flatMap(([, s]) => [s, s, s, s])),
});

describe('combineDraws', () => {
  it('keeps, per frame, all four tokens of the draw with the highest mean score', () => {
    const a = draw([[1, 2, 3, 4], 0.5], [[5, 6, 7, 8], 0.2]);
    const b = draw([[11, 12, 13, 14], 0.4], [[15, 16, 17, 18], 0.3]);
    const c = draw([[21, 22, 23, 24], 0.6], [[25, 26, 27, 28], 0.1]);
    const combined = combineDraws([a, b, c], DEFAULT_TOKENIZER);
    expect([...combined.tokens]).toEqual([21, 22, 23, 24, 15, 16, 17, 18]);
    expect([...combined.scores]).toEqual([0.6, 0.6, 0.6, 0.6, 0.3, 0.3, 0.3, 0.3].map(Math.fround));
  });

  it('ranks by the mean of the four scores, not by any one coordinate', () => {
    const a: DecodeResult = { tokens: Int32Array.of(1, 2, 3, 4), scores: Float32Array.of(0.9, 0.1, 0.1, 0.1) };
    const b: DecodeResult = { tokens: Int32Array.of(5, 6, 7, 8), scores: Float32Array.of(0.4, 0.4, 0.4, 0.4) };
    expect([...combineDraws([a, b], DEFAULT_TOKENIZER).tokens]).toEqual([5, 6, 7, 8]);
  });

  it('keeps the earlier draw on a tie, and returns a single draw as it is', () => {
    const a = draw([[1, 2, 3, 4], 0.5]);
    const b = draw([[5, 6, 7, 8], 0.5]);
    expect([...combineDraws([a, b], DEFAULT_TOKENIZER).tokens]).toEqual([1, 2, 3, 4]);
    expect(combineDraws([b], DEFAULT_TOKENIZER)).toBe(b);
    expect(() => combineDraws([], DEFAULT_TOKENIZER)).toThrow(RangeError);
  });

  it('ranks a frame with a [Begin]/[End] token in a coordinate slot below every usable draw', () => {
    const special = coordinateTokenCount(DEFAULT_TOKENIZER); // the first non-coordinate token
    const a = draw([[1, 2, special, 4], 0.9]);
    const b = draw([[5, 6, 7, 8], 0.05]);
    expect([...combineDraws([a, b], DEFAULT_TOKENIZER).tokens]).toEqual([5, 6, 7, 8]);
  });
});

describe('drawSeed', () => {
  it('keeps the window seed for draw 0 and gives the other draws distinct seeds', () => {
    const window = decodeSeed(0x5c7d1ffn, 8, false);
    expect(drawSeed(window, 0)).toBe(window);
    const seeds = new Set(Array.from({ length: 16 }, (_, k) => drawSeed(window, k)));
    expect(seeds.size).toBe(16);
    // Draw k of one window is not draw 0 of another window.
    const others = new Set(Array.from({ length: 40 }, (_, end) => decodeSeed(0x5c7d1ffn, end, false)));
    for (let k = 1; k < 16; k++) expect(others.has(drawSeed(window, k))).toBe(false);
  });
});

describe('Tracker with several noise draws', () => {
  const GT = syntheticTrajectory(60);

  async function run(options: Omit<TrackerOptions, 'engine'>, engineOptions: Partial<TestEngineOptions> = {}) {
    const engine = new TestEngine({ groundTruth: GT, ...engineOptions });
    const tracker = await Tracker.create({ latency: 'window', ...options, engine });
    await tracker.init(makeTestFrame(0), GT[0] as Box);
    const pending: Promise<TrackResult>[] = [];
    for (let k = 1; k < GT.length; k++) pending.push(tracker.track(makeTestFrame(k)));
    // finish() queues behind the track() calls and resolves the frames of the last partial window.
    const trajectory = await tracker.finish();
    await Promise.all(pending);
    await tracker.dispose();
    return { engine, trajectory };
  }

  it('decodes each window once per draw, with the same request but for the seed', async () => {
    const { engine } = await run({ draws: 3 });
    const decodes = engine.callsOf('decode');
    expect(decodes.length % 3).toBe(0);
    for (let w = 0; w < decodes.length; w += 3) {
      const [first, second, third] = decodes.slice(w, w + 3);
      for (const other of [second, third]) {
        expect(other?.slots).toEqual(first?.slots);
        expect(other?.tokens).toEqual(first?.tokens);
        expect(other?.timesteps).toEqual(first?.timesteps);
      }
      const windowSeed = first?.seed as bigint;
      expect([second?.seed, third?.seed]).toEqual([drawSeed(windowSeed, 1), drawSeed(windowSeed, 2)]);
    }
    // Draw 0 of each window has the seed a one-draw tracker uses.
    const single = (await run({})).engine.callsOf('decode').map((c) => c.seed);
    expect(decodes.filter((_, i) => i % 3 === 0).map((c) => c.seed)).toEqual(single);
  });

  it('one draw (the default) tracks exactly as before: the same calls and boxes', async () => {
    const a = await run({});
    const b = await run({ draws: 1 });
    expect(b.engine.callsOf('decode').map((c) => c.seed)).toEqual(a.engine.callsOf('decode').map((c) => c.seed));
    expect(b.trajectory).toEqual(a.trajectory);
  });

  it('stores, per frame, the estimate of its most confident draw', async () => {
    const { engine, trajectory } = await run({ draws: 4, stride: 6 });
    // Stride 6: every frame is estimated by exactly one window, so its stored score is that window's best draw.
    const decodes = engine.callsOf('decode');
    for (let w = 0; w < decodes.length; w += 4) {
      const group = decodes.slice(w, w + 4);
      group[0]?.frameIndices.forEach((frameIndex, i) => {
        const best = Math.max(...group.map((d) => d.result.scores[4 * i] as number));
        expect(trajectory[frameIndex]?.score).toBe(best);
      });
    }
  });

  it('tracks closer to the ground truth with more draws when confidence predicts error', async () => {
    // The test engine's error shrinks with its score, as the trained model's does (docs/tracking.md).
    const meanIou = (t: { box: Box }[]) => t.slice(1).reduce((sum, e, i) => sum + iou(e.box, GT[i + 1] as Box), 0) / (t.length - 1);
    const one = meanIou((await run({}, { maxError: 0.2 })).trajectory);
    const four = meanIou((await run({ draws: 4 }, { maxError: 0.2 })).trajectory);
    expect(four).toBeGreaterThan(one + 0.02);
  });
});
