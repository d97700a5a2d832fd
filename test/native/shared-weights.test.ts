/**
 * Engines of the same model file share one set of weights per process
 * (native/engine/weight_cache.h), seen through the addon's `_debugWeightSets()` hook
 * (native/binding/NOTES.md): trackers on one model hold one set, track exactly as a lone
 * tracker does, and free the set when the last one is disposed; a file rewritten on disk, or
 * another file with the same bytes, gets a set of its own. Sets are picked out by path, so
 * engines of other tests in the same process do not disturb the counts.
 */
import { realpathSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeAddon, type NativeAddon } from '../../lib/engine/loader.js';
import { inspectModel } from '../../lib/engine/native.js';
import type { Frame } from '../../lib/engine/types.js';
import { Tracker, type TrackResult } from '../../lib/tracker/index.js';
import { nanoParts, serialize, weightsFolder } from '../fixtures/weights/nano-weights.js';

/** One live weight set as `_debugWeightSets()` reports it. */
interface WeightSet {
  id: number;
  path: string;
  memorySpace: string;
  engines: number;
  bytes: number;
}

const addon = loadNativeAddon() as NativeAddon & { _debugWeightSets(): WeightSet[] };
const folder = weightsFolder();
afterAll(() => folder.cleanup());

/** The live sets loaded from `file`, oldest first. */
function setsOf(file: string): WeightSet[] {
  const canonical = realpathSync(file);
  return addon._debugWeightSets().filter((set) => set.path === canonical);
}

function texturedFrame(index: number, width = 96, height = 64): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + index * 17) & 255;
  return { data, width, height, format: 'rgb' };
}

function openTracker(model: string): Promise<Tracker> {
  return Tracker.create({ model, device: 'cpu', threads: 1, stride: 1, seed: 11n });
}

/** Init on frame 0, track frames 1..6, finish: every per-frame result and the trajectory. */
async function track(tracker: Tracker) {
  await tracker.init(texturedFrame(0), { x: 30, y: 20, width: 20, height: 16 });
  const results: TrackResult[] = [];
  for (let k = 1; k <= 6; k++) results.push(await tracker.track(texturedFrame(k)));
  return { results, trajectory: await tracker.finish() };
}

describe('weights shared by the engines of one model (CPU)', () => {
  it('trackers on one model share one weight set, track bit-identically to a lone tracker, and free it when all are disposed', async () => {
    const model = folder.write('shared.safetensors', serialize(nanoParts()));
    const baseline = addon._debugWeightSets().length;

    const lone = await openTracker(model);
    const [loneSet] = setsOf(model);
    expect(setsOf(model)).toHaveLength(1);
    expect(loneSet).toMatchObject({ memorySpace: 'host', engines: 1 });
    // The set is the float32 copy of every weight (the nano file is already F32).
    expect(loneSet?.bytes).toBe(inspectModel(model).parameterCount * 4);
    const expected = await track(lone);
    await lone.dispose();
    expect(setsOf(model)).toEqual([]);

    // Created together: their engines load on their own worker threads at the same time.
    const trackers = await Promise.all([openTracker(model), openTracker(model), openTracker(model)]);
    const shared = setsOf(model);
    expect(shared).toHaveLength(1);
    expect(shared[0]?.engines).toBe(3);
    expect(shared[0]?.id).not.toBe(loneSet?.id); // loaded afresh: the lone tracker's set was freed
    const runs = await Promise.all(trackers.map((tracker) => track(tracker)));
    for (const run of runs) {
      // toEqual compares numbers exactly: boxes and scores bit for bit.
      expect(run.results).toEqual(expected.results);
      expect(run.trajectory).toEqual(expected.trajectory);
    }

    await trackers[0]?.dispose();
    expect(setsOf(model)[0]?.engines).toBe(2);
    await Promise.all(trackers.map((tracker) => tracker.dispose()));
    expect(setsOf(model)).toEqual([]);
    expect(addon._debugWeightSets()).toHaveLength(baseline);
  });

  it('a model file rewritten on disk gets a new weight set, the old one lives on with its trackers', async () => {
    const model = folder.write('rewritten.safetensors', serialize(nanoParts()));
    const first = await openTracker(model);
    const before = await track(first);

    // Rewritten with another size (F16 holds the same values exactly, so results must not change).
    writeFileSync(model, serialize(nanoParts({ dtype: 'F16' })));
    const second = await openTracker(model);
    // Rewritten again with the same bytes and size: only the modification time differs.
    const bytes = serialize(nanoParts({ dtype: 'F16' }));
    writeFileSync(model, bytes);
    const { mtime } = statSync(model);
    utimesSync(model, mtime, new Date(mtime.getTime() + 10_000));
    const third = await openTracker(model);

    const sets = setsOf(model);
    expect(sets).toHaveLength(3);
    expect(new Set(sets.map((set) => set.id)).size).toBe(3);
    expect(sets.map((set) => set.engines)).toEqual([1, 1, 1]);
    expect((await track(second)).trajectory).toEqual(before.trajectory);
    expect((await track(third)).trajectory).toEqual(before.trajectory);

    await Promise.all([first.dispose(), second.dispose(), third.dispose()]);
    expect(setsOf(model)).toEqual([]);
  });

  it('engines on different files do not share, even when the bytes are the same', async () => {
    const bytes = serialize(nanoParts());
    const a = folder.write('a.safetensors', bytes);
    const b = folder.write('b.safetensors', bytes);
    const trackers = await Promise.all([openTracker(a), openTracker(a), openTracker(b)]);
    expect(setsOf(a).map((set) => set.engines)).toEqual([2]);
    expect(setsOf(b).map((set) => set.engines)).toEqual([1]);
    expect(setsOf(a)[0]?.id).not.toBe(setsOf(b)[0]?.id);
    await Promise.all(trackers.map((tracker) => tracker.dispose()));
    expect([...setsOf(a), ...setsOf(b)]).toEqual([]);
  });
});
