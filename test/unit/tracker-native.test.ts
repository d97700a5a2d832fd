/**
 * The Tracker on the real CPU engine: a nano model (random weights, clip length 2, 4 bins) and
 * then the tiny config exported by training/export.py. Random weights say nothing about
 * accuracy; these tests check that the tracker and the native engine agree on the contract
 * (slots, tokens, timesteps, frame formats) and that runs are reproducible for a seed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../lib/engine/types.js';
import { Tracker } from '../../lib/tracker/index.js';
import { nanoParts, serialize, weightsFolder } from '../fixtures/weights/nano-weights.js';

const folder = weightsFolder();
afterAll(() => folder.cleanup());
const nanoModel = folder.write('nano.safetensors', serialize(nanoParts()));

function texturedFrame(index: number, width = 96, height = 64): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + index * 17) & 255;
  return { data, width, height, format: 'rgb' };
}

async function run(seed: bigint, stride: number, latency: 'frame' | 'window') {
  await using tracker = await Tracker.create({ model: nanoModel, device: 'cpu', threads: 1, stride, latency, seed });
  expect(tracker.backend).toBe('cpu');
  expect(tracker.model.clipLength).toBe(2);
  await tracker.init(texturedFrame(0), { x: 30, y: 20, width: 20, height: 16 });
  // Submit all frames before awaiting: with window latency frame 7 waits for finish().
  const submitted = Promise.all(Array.from({ length: 7 }, (_, k) => tracker.track(texturedFrame(k + 1))));
  const trajectory = await tracker.finish();
  return { results: await submitted, trajectory };
}

describe('Tracker on the native CPU engine (nano model)', () => {
  it('tracks every frame with finite boxes inside the image and valid scores', async () => {
    for (const stride of [1, 2]) {
      for (const latency of ['frame', 'window'] as const) {
        const { results, trajectory } = await run(1n, stride, latency);
        expect(results.map((r) => r.frameIndex)).toEqual([1, 2, 3, 4, 5, 6, 7]);
        expect(trajectory).toHaveLength(8);
        for (const t of trajectory) {
          expect(Number.isFinite(t.box.x) && Number.isFinite(t.box.y)).toBe(true);
          expect(t.box.width).toBeGreaterThanOrEqual(10);
          expect(t.box.x).toBeGreaterThanOrEqual(0);
          expect(t.box.x).toBeLessThanOrEqual(96 - 10);
          expect(t.score).toBeGreaterThanOrEqual(0);
          expect(t.score).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('is reproducible for a seed, and both latency modes end with the same trajectory', async () => {
    const a = await run(7n, 1, 'frame');
    const b = await run(7n, 1, 'frame');
    expect(a.trajectory).toEqual(b.trajectory);
    const frame = await run(7n, 2, 'frame');
    const window = await run(7n, 2, 'window');
    expect(frame.trajectory).toEqual(window.trajectory);
  });
});
