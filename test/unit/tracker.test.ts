import { describe, expect, it } from 'vitest';
import type { Box } from '../../lib/geometry/box.js';
import { Tracker, type TrackResult, type TrackerOptions } from '../../lib/tracker/index.js';
import { meanBox, priorTokens, searchCropFor, templateCropFor } from '../../lib/tracker/reference.js';
import { DEFAULT_TOKENIZER } from '../../lib/model/tokenizer.js';
import { TestEngine, type TestEngineOptions, iou, makeTestFrame, syntheticTrajectory } from '../helpers/test-engine.js';

const GT = syntheticTrajectory(60);

async function setup(options: Omit<TrackerOptions, 'engine'> = {}, engineOptions: Partial<TestEngineOptions> = {}) {
  const engine = new TestEngine({ groundTruth: GT, ...engineOptions });
  const tracker = await Tracker.create({ ...options, engine });
  await tracker.init(makeTestFrame(0), GT[0] as Box);
  return { engine, tracker };
}

/** Track frames 1..last without awaiting each call (works in both latency modes). */
async function trackAll(tracker: Tracker, last: number, from = 1): Promise<TrackResult[]> {
  const pending: Promise<TrackResult>[] = [];
  for (let k = from; k <= last; k++) pending.push(tracker.track(makeTestFrame(k)));
  return Promise.all(pending);
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('Tracker on the deterministic engine', () => {
  it('init sets both templates from frame 0 around the init box', async () => {
    const { engine } = await setup();
    const crop = templateCropFor(GT[0] as Box, engine.model);
    expect(engine.callsOf('setTemplate')).toEqual([
      { method: 'setTemplate', index: 0, frameIndex: 0, crop },
      { method: 'setTemplate', index: 1, frameIndex: 0, crop },
    ]);
  });

  it('follows the window schedule with stride 3: frames, timesteps, shared crop, re-encoded overlap', async () => {
    const { engine, tracker } = await setup({ latency: 'window', templateUpdateThreshold: 2 });
    const results = await trackAll(tracker, 9);
    const decodes = engine.callsOf('decode');
    expect(decodes.map((d) => d.frameIndices)).toEqual([range(0, 3), range(1, 6), range(4, 9)]);
    expect(decodes.map((d) => d.timesteps)).toEqual([
      [500, 999, 999, 999],
      [500, 500, 500, 999, 999, 999],
      [500, 500, 500, 999, 999, 999],
    ]);
    expect(engine.callsOf('encode').map((e) => e.frameIndices)).toEqual([range(0, 3), range(1, 6), range(4, 9)]);
    // Every frame of a window was encoded with one crop: the first around the init box, later
    // ones around the mean of the previous window's boxes as they stood after that window.
    const afterFirst = [GT[0] as Box, ...results.slice(0, 3).map((r) => r.box)];
    const afterSecond = [...afterFirst.slice(1), ...results.slice(3, 6).map((r) => r.box)];
    for (const rev of results[5]?.revised ?? []) afterSecond[rev.frameIndex - 1] = rev.box;
    const expectedCrops = [
      searchCropFor(GT[0] as Box, engine.model),
      searchCropFor(meanBox(afterFirst), engine.model),
      searchCropFor(meanBox(afterSecond), engine.model),
    ];
    decodes.forEach((d, i) => d.crops.forEach((c) => expect(c).toEqual(expectedCrops[i])));
  });

  it('feeds re-estimated frames their stored boxes as tokens in the new crop, new frames the reference box', async () => {
    const { engine, tracker } = await setup({ latency: 'window', stride: 3, templateUpdateThreshold: 2 });
    const first = await trackAll(tracker, 3);
    const stored = [GT[0] as Box, ...first.map((r) => r.box)];
    await trackAll(tracker, 6, 4);
    const second = engine.callsOf('decode')[1];
    const crop = searchCropFor(meanBox(stored), engine.model);
    const reference = meanBox(stored);
    const expected = priorTokens([...stored.slice(1), reference, reference, reference], crop, DEFAULT_TOKENIZER);
    expect(second?.tokens).toEqual([...expected]);
  });

  it('with an error-free engine, every box (provisional ones too) matches the ground truth to quantization', async () => {
    const { tracker } = await setup({ latency: 'frame' }, { maxError: 0 });
    const results = await trackAll(tracker, 40);
    for (const r of results) expect(iou(r.box, GT[r.frameIndex] as Box)).toBeGreaterThan(0.97);
    for (const t of await tracker.finish()) expect(iou(t.box, GT[t.frameIndex] as Box)).toBeGreaterThan(0.97);
  });

  it('tracks a moving box closely in both latency modes, with the same final trajectory', async () => {
    const last = 40;
    const results: Record<string, Box[]> = {};
    const meanIoU = (boxes: { frameIndex: number; box: Box }[]) =>
      boxes.reduce((s, r) => s + iou(r.box, GT[r.frameIndex] as Box), 0) / boxes.length;
    for (const latency of ['frame', 'window'] as const) {
      const { tracker } = await setup({ latency });
      // With window latency, frame 40 waits for finish(), so submit everything before awaiting.
      const submitted = trackAll(tracker, last);
      const trajectory = await tracker.finish();
      const stepResults = await submitted;
      if (latency === 'frame') {
        // Every call got a box; frames that do not complete a window are provisional.
        expect(stepResults.map((r) => r.provisional)).toEqual(range(1, last).map((k) => k % 3 !== 0));
        expect(meanIoU(stepResults)).toBeGreaterThan(0.8);
      }
      expect(trajectory.map((t) => t.frameIndex)).toEqual(range(0, last));
      expect(meanIoU(trajectory)).toBeGreaterThan(0.85);
      for (const t of trajectory) expect(iou(t.box, GT[t.frameIndex] as Box)).toBeGreaterThan(0.6);
      results[latency] = trajectory.map((t) => t.box);
    }
    expect(results.frame).toEqual(results.window);
  });

  it('frame latency reports a window frame’s provisional predecessors in revised[]', async () => {
    const { tracker } = await setup({ latency: 'frame', templateUpdateThreshold: 2 });
    const r = await trackAll(tracker, 6);
    expect(r.map((x) => x.provisional)).toEqual([true, true, false, true, true, false]);
    expect(r[2]?.revised.map((x) => x.frameIndex)).toEqual([1, 2]);
    const trajectory = await tracker.finish();
    for (const x of r[2]?.revised ?? []) expect(x.box).toEqual(trajectory[x.frameIndex]?.box);
  });

  it('replaces a past box only when its new score is higher, and lists exactly those in revised[]', async () => {
    // New frames score 0.5; re-estimates of odd frames score 0.6 (replace), of even ones 0.4 (keep).
    const estimate = ({ frameIndex, timestep }: { frameIndex: number; timestep: number }) => ({
      score: timestep === 999 ? 0.5 : frameIndex % 2 === 1 ? 0.6 : 0.4,
      error: [0.01 * (timestep === 999 ? 1 : -1), 0, 0, 0] as [number, number, number, number],
    });
    const { engine, tracker } = await setup({ stride: 3, latency: 'window' }, { estimate });
    const results = await trackAll(tracker, 9);
    expect(results[5]?.revised.map((x) => x.frameIndex)).toEqual([1, 3]);
    expect(results[8]?.revised.map((x) => x.frameIndex)).toEqual([5]);
    // Only the triggering frame of a window carries revised[].
    expect(results.filter((r) => r.revised.length > 0).map((r) => r.frameIndex)).toEqual([6, 9]);
    const trajectory = await tracker.finish();
    // Replaced frames carry the refined score; kept ones (and the locked init frame) their first.
    expect(trajectory.map((t) => t.score)).toEqual([1, 0.6, 0.5, 0.6, 0.5, 0.6, 0.5, 0.5, 0.5, 0.5].map(Math.fround));
    // A replaced box is the decode's estimate of the window that replaced it.
    const second = engine.callsOf('decode')[1];
    const revised1 = results[5]?.revised[0];
    expect(revised1?.box).toEqual(trajectory[1]?.box);
    expect(second?.result.scores[0]).toBeCloseTo(0.6, 6);
  });

  it('refinement makes the trajectory more accurate than the first estimates', async () => {
    const { tracker } = await setup({ latency: 'window' }, { maxError: 0.15 });
    const last = 57;
    const first = await trackAll(tracker, last);
    const trajectory = await tracker.finish();
    const meanIoU = (boxes: { frameIndex: number; box: Box }[]) =>
      boxes.reduce((s, r) => s + iou(r.box, GT[r.frameIndex] as Box), 0) / boxes.length;
    const revisedCount = trajectory.filter((t, i) => i > 0 && t.score !== first[i - 1]?.score).length;
    expect(revisedCount).toBeGreaterThan(5);
    expect(meanIoU(trajectory.slice(1))).toBeGreaterThan(meanIoU(first));
  });

  it('stride 1 decodes at every frame with 5 re-estimated frames once the window is full', async () => {
    const { engine, tracker } = await setup({ stride: 1 });
    const r = await trackAll(tracker, 8);
    expect(r.every((x) => !x.provisional)).toBe(true);
    const decodes = engine.callsOf('decode');
    expect(decodes).toHaveLength(8);
    expect(decodes[7]?.frameIndices).toEqual(range(3, 8));
    expect(decodes[7]?.timesteps).toEqual([500, 500, 500, 500, 500, 999]);
  });

  it('stride N never re-estimates: no tRefine, no revised[]', async () => {
    const { engine, tracker } = await setup({ stride: 6, latency: 'window' });
    const r = await trackAll(tracker, 12);
    expect(engine.callsOf('decode').map((d) => d.frameIndices)).toEqual([range(1, 6), range(7, 12)]);
    expect(engine.callsOf('decode').every((d) => d.timesteps.every((t) => t === 999))).toBe(true);
    expect(r.every((x) => x.revised.length === 0)).toBe(true);
  });

  it('finish() flushes the last partial window and resolves the frames waiting on it', async () => {
    const { engine, tracker } = await setup({ latency: 'window' });
    const waiting = trackAll(tracker, 8);
    const trajectory = await tracker.finish();
    const results = await waiting;
    expect(engine.callsOf('decode').map((d) => d.frameIndices)).toEqual([range(0, 3), range(1, 6), range(4, 8)]);
    expect(engine.callsOf('decode')[2]?.timesteps).toEqual([500, 500, 500, 999, 999]);
    expect(trajectory).toHaveLength(9);
    expect(results.map((r) => r.frameIndex)).toEqual(range(1, 8));
    expect(results[7]?.box).toEqual(trajectory[8]?.box);
    expect(tracker.frameCount).toBe(9);
    // Nothing pending: a second finish() decodes nothing more.
    await tracker.finish();
    expect(engine.callsOf('decode')).toHaveLength(3);
  });

  it('reuses overlap features only within featureReuseTolerance', async () => {
    const exact = await setup({ latency: 'window', templateUpdateThreshold: 2 });
    await trackAll(exact.tracker, 12);
    for (const d of exact.engine.callsOf('decode')) expect(new Set(d.crops.map((c) => JSON.stringify(c))).size).toBe(1);

    const loose = await setup({ latency: 'window', featureReuseTolerance: 0.5 });
    await trackAll(loose.tracker, 12);
    // Only new frames get encoded; overlap frames keep the features of their first crop.
    expect(loose.engine.callsOf('encode').map((e) => e.frameIndices)).toEqual([range(0, 3), range(4, 6), range(7, 9), range(10, 12)]);
    expect(loose.engine.callsOf('decode').some((d) => new Set(d.crops.map((c) => JSON.stringify(c))).size > 1)).toBe(true);
  });

  it('cuts the dynamic template from the best-scoring frame of the last window, before the next encode', async () => {
    const { engine, tracker } = await setup({ latency: 'window', templateUpdateThreshold: 0 });
    await trackAll(tracker, 6);
    const trajectory = await tracker.finish();
    const firstDecode = engine.callsOf('decode')[0];
    const scores = [1, 2, 3].map((i) => firstDecode?.result.scores[4 * i] ?? 0);
    const best = 1 + scores.indexOf(Math.max(...scores));
    const update = engine.callsOf('setTemplate')[2];
    expect(update).toEqual({ method: 'setTemplate', index: 1, frameIndex: best, crop: templateCropFor(trajectory[best]?.box as Box, engine.model) });
    // The second window's frames were encoded with the new template.
    expect(engine.callsOf('decode')[1]?.templateFrames.every((f) => f === best)).toBe(true);
    const order = engine.calls.map((c) => c.method);
    expect(order.indexOf('setTemplate', 2)).toBeLessThan(order.lastIndexOf('encode'));
  });

  it('never updates the dynamic template below the threshold', async () => {
    const { engine, tracker } = await setup({ templateUpdateThreshold: 0.99 });
    await trackAll(tracker, 12);
    expect(engine.callsOf('setTemplate')).toHaveLength(2);
  });

  it('reports window decodes, encodes, refinements and template updates to the logger', async () => {
    const messages: string[] = [];
    const { tracker } = await setup({ latency: 'window', templateUpdateThreshold: 0, logger: (level, m) => messages.push(`${level}: ${m}`) });
    await trackAll(tracker, 6);
    expect(messages).toContain('debug: encoded frames 0, 1, 2, 3 (0 reused)');
    expect(messages).toContain('debug: decoded window [0..3], 3 new');
    expect(messages).toContain('debug: decoded window [1..6], 3 new');
    expect(messages.some((m) => /^debug: dynamic template from frame [1-3]$/.test(m))).toBe(true);
  });

  it('is reproducible for a seed and changes with it', async () => {
    const run = async (seed: bigint) => {
      const { tracker } = await setup({ seed });
      await trackAll(tracker, 12);
      return (await tracker.finish()).map((t) => t.box);
    };
    expect(await run(5n)).toEqual(await run(5n));
    expect(await run(5n)).not.toEqual(await run(6n));
  });
});
