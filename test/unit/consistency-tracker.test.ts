/**
 * The Tracker composes its engine requests the way the training sampler composes a clip
 * (training/sctdiff/data.py, TrackingSamples._build; docs/consistency.md). consistency.test.ts
 * proves the building blocks (crop, normalization, tokens, Begin/End layout, timesteps) equal
 * the training functions; this file checks that the Tracker puts them together in the same
 * order for every window it sends, over all strides and both latency modes:
 * - one search crop for all frames of a decode call (training: every frame cropped around the
 *   clip's one reference), around the reference box of the clip;
 * - frames oldest first (temporal embedding index = position in the clip);
 * - re-estimated frames first at t_refine, then new frames at t_new;
 * - prior tokens: re-estimated frames' own boxes in the clip crop, new frames the reference box;
 * - the dynamic template cut with templateFactor around its box.
 *
 * The deterministic test engine scores every call lower than the one before, so refinement
 * never replaces a stored box and the final trajectory is what the tracker had stored when it
 * built each request; that lets the test rebuild each request independently.
 */
import { describe, expect, it } from 'vitest';
import type { Box } from '../../lib/geometry/box.js';
import { DEFAULT_TOKENIZER } from '../../lib/model/tokenizer.js';
import { Tracker, type TrackResult, type LatencyMode } from '../../lib/tracker/index.js';
import { meanBox, priorTokens, searchCropFor, templateCropFor } from '../../lib/tracker/reference.js';
import { TestEngine, makeTestFrame, syntheticTrajectory } from '../helpers/test-engine.js';

const FRAMES = 26;
const GT = syntheticTrajectory(FRAMES + 1);

async function runTracker(stride: number, latency: LatencyMode) {
  const engine = new TestEngine({
    groundTruth: GT,
    // Falling scores: a re-estimate never beats the stored estimate; all stay above the
    // template threshold so the dynamic template moves every window.
    estimate: ({ call, frameIndex }) => ({
      score: 0.95 - 0.005 * call,
      error: [1, 2, 3, 4].map((j) => 0.01 * Math.sin(frameIndex * 1.7 + j)) as [number, number, number, number],
    }),
  });
  const tracker = await Tracker.create({ engine, stride, latency });
  await tracker.init(makeTestFrame(0), GT[0] as Box);
  const pending: Promise<TrackResult>[] = [];
  for (let k = 1; k <= FRAMES; k++) pending.push(tracker.track(makeTestFrame(k)));
  const trajectory = await tracker.finish();
  await Promise.all(pending);
  await tracker.dispose();
  return { engine, boxes: trajectory.map((t) => t.box) };
}

const cases = [1, 2, 3, 4, 5, 6].flatMap((stride) => (['window', 'frame'] as const).map((latency) => [stride, latency] as const));

describe('Tracker requests follow the training clip layout', () => {
  it.each(cases)('stride %i, %s latency', async (stride, latency) => {
    const { engine, boxes } = await runTracker(stride, latency);
    const { tNew, tRefine } = engine.model;
    const tokenizer = { ...DEFAULT_TOKENIZER, bins: engine.model.bins };
    const decodes = engine.callsOf('decode');
    expect(decodes.length).toBeGreaterThan(0);

    let reference: Box = GT[0] as Box; // the first clip is cut around the init box
    let lastEstimated = 0;
    for (const d of decodes) {
      const n = d.frameIndices.length;
      // Oldest first and consecutive: position i gets temporal[i], as in training.
      expect(d.frameIndices).toEqual(Array.from({ length: n }, (_, i) => (d.frameIndices[0] as number) + i));
      expect(n).toBeLessThanOrEqual(engine.model.clipLength);

      const crop = searchCropFor(reference, engine.model);
      for (const c of d.crops) expect(c).toEqual(crop);

      const overlap = d.frameIndices.filter((f) => f <= lastEstimated).length;
      expect(d.timesteps).toEqual([...Array<number>(overlap).fill(tRefine), ...Array<number>(n - overlap).fill(tNew)]);

      const priorBoxes = d.frameIndices.map((f, i) => (i < overlap ? (boxes[f] as Box) : reference));
      expect(d.tokens).toEqual(Array.from(priorTokens(priorBoxes, crop, tokenizer)));

      // A full window (or the final flush) is stored and becomes the next clip's reference.
      const isLast = d === decodes[decodes.length - 1];
      if (n - overlap === stride || isLast) {
        lastEstimated = d.frameIndices[n - 1] as number;
        reference = meanBox(d.frameIndices.map((f) => boxes[f] as Box));
      }
    }
    expect(lastEstimated).toBe(FRAMES);

    const dynamic = engine.callsOf('setTemplate').filter((c) => c.index === 1 && c.frameIndex > 0);
    expect(dynamic.length).toBeGreaterThan(0);
    for (const c of dynamic) expect(c.crop).toEqual(templateCropFor(boxes[c.frameIndex] as Box, engine.model));
  });
});
