import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DisposedError,
  InvalidArgumentError,
  InvalidBoxError,
  InvalidFrameError,
  NativeError,
  NotInitializedError,
} from '../../lib/errors.js';
import type { Frame } from '../../lib/engine/types.js';
import type { Box } from '../../lib/geometry/box.js';
import { Tracker, type TrackResult, type TrackerOptions, defaultModelPath } from '../../lib/tracker/index.js';
import { copyFrame, validateFrame } from '../../lib/tracker/frame.js';
import { TestEngine, type TestEngineOptions, frameIndexOf, makeTestFrame, syntheticTrajectory } from '../helpers/test-engine.js';

const GT = syntheticTrajectory(40);

async function created(options: Omit<TrackerOptions, 'engine'> = {}, engineOptions: Partial<TestEngineOptions> = {}) {
  const engine = new TestEngine({ groundTruth: GT, ...engineOptions });
  const tracker = await Tracker.create({ ...options, engine });
  return { engine, tracker };
}

async function initialized(options: Omit<TrackerOptions, 'engine'> = {}, engineOptions: Partial<TestEngineOptions> = {}) {
  const made = await created(options, engineOptions);
  await made.tracker.init(makeTestFrame(0), GT[0] as Box);
  return made;
}

describe('frame validation', () => {
  const good = makeTestFrame(0, 8, 4);
  const cases: [string, unknown, string][] = [
    ['a non-object', 42, 'Expected an object {data, width, height, format} for frame but received 42'],
    ['data as a plain array', { ...good, data: [1, 2, 3] }, 'Expected a Uint8Array or Buffer as data for frame but received an array of length 3'],
    ['zero width', { ...good, width: 0 }, 'Expected a positive integer width for frame but received 0'],
    ['fractional height', { ...good, height: 1.5 }, 'Expected a positive integer height for frame but received 1.5'],
    ['an unknown format', { ...good, format: 'yuv' }, `Expected a format of 'rgb', 'bgr', 'rgba' or 'gray' for frame but received "yuv"`],
    ['a stride below width × channels', { ...good, stride: 23 }, 'Expected an integer stride of at least 24 (width × channels) for frame but received 23'],
    ['too few bytes for its size', { ...good, data: new Uint8Array(95) }, 'Expected at least 96 bytes of data for frame (8×4 rgb, stride 24) but received 95'],
    ['too few bytes for its stride', { ...good, stride: 32 }, 'Expected at least 120 bytes of data for frame (8×4 rgb, stride 32) but received 96'],
  ];
  for (const [name, frame, message] of cases) {
    it(`rejects ${name}`, () => {
      expect(() => validateFrame(frame)).toThrow(InvalidFrameError);
      expect(() => validateFrame(frame)).toThrow(message);
    });
  }

  it('accepts a Buffer, a padded stride, and a short last row; copies compactly', () => {
    // 2×2 gray frame, stride 3: row 0 = [1, 2, pad], row 1 = [3, 4] (no padding after the last row).
    const padded = { data: Buffer.from([1, 2, 99, 3, 4]), width: 2, height: 2, format: 'gray' as const, stride: 3 };
    const copy = copyFrame(validateFrame(padded));
    expect([...copy.data]).toEqual([1, 2, 3, 4]);
    expect(copy.stride).toBe(2);
    padded.data[0] = 7;
    expect(copy.data[0]).toBe(1);
  });
});

describe('Tracker input errors', () => {
  it('rejects bad boxes with one message shape, and a box entirely outside the frame', async () => {
    const { tracker } = await created();
    const frame = makeTestFrame(0);
    await expect(tracker.init(frame, { x: 0, y: 0, width: -3, height: 10 })).rejects.toThrow(
      'Expected a finite positive width for box but received -3',
    );
    await expect(tracker.init(frame, { x: 0, y: 0, width: 0, height: 10 })).rejects.toThrow(InvalidBoxError);
    await expect(tracker.init(frame, { x: Number.NaN, y: 0, width: 5, height: 10 })).rejects.toThrow(
      'Expected a finite x for box but received NaN',
    );
    await expect(tracker.init(frame, { x: 0, y: 0, width: 5, height: Infinity })).rejects.toThrow(InvalidBoxError);
    await expect(tracker.init(frame, { x: 320, y: 10, width: 20, height: 20 })).rejects.toThrow(
      'Expected box to overlap the 320×240 frame but received {x: 320, y: 10, width: 20, height: 20}',
    );
    await expect(tracker.init(frame, { x: -30, y: -30, width: 20, height: 20 })).rejects.toThrow(InvalidBoxError);
    // A box partly outside is fine.
    await expect(tracker.init(frame, { x: -10, y: -10, width: 20, height: 20 })).resolves.toBeUndefined();
  });

  it('rejects track() and finish() before init()', async () => {
    const { tracker, engine } = await created();
    await expect(tracker.track(makeTestFrame(1))).rejects.toThrow(NotInitializedError);
    await expect(tracker.track(makeTestFrame(1))).rejects.toThrow('Call init(frame, box) before track(frame)');
    await expect(tracker.finish()).rejects.toThrow(NotInitializedError);
    expect(engine.calls).toHaveLength(0);
  });

  it('rejects a frame whose size differs from the init frame, without counting it', async () => {
    const { tracker } = await initialized();
    await expect(tracker.track(makeTestFrame(1, 160, 120))).rejects.toThrow(
      'Expected a 320×240 frame (the size given to init) but received 160×120',
    );
    await expect(tracker.track(makeTestFrame(1, 160, 120))).rejects.toThrow(InvalidFrameError);
    expect(tracker.frameCount).toBe(1);
    await expect(tracker.track(makeTestFrame(1))).resolves.toMatchObject({ frameIndex: 1 });
  });

  it('defaults the model to the package copy of models/sctdiff-tiny.safetensors', () => {
    const packageRoot = path.resolve(import.meta.dirname, '..', '..');
    expect(defaultModelPath()).toBe(path.join(packageRoot, 'models', 'sctdiff-tiny.safetensors'));
  });

  it('defaults the stride to 3, or to the clip length of a model with shorter windows', async () => {
    const six = await Tracker.create({ engine: new TestEngine({ groundTruth: GT }) });
    const single = await Tracker.create({ engine: new TestEngine({ groundTruth: GT, model: { clipLength: 1 } }) });
    expect([six.stride, single.stride]).toEqual([3, 1]);
    // A stride given explicitly is still checked against the model, not adjusted.
    await expect(Tracker.create({ engine: new TestEngine({ groundTruth: GT, model: { clipLength: 1 } }), stride: 3 })).rejects.toThrow(
      "Expected a stride between 1 and 1 (the model's clip length) but received 3",
    );
    await single.init(makeTestFrame(0), GT[0]!);
    await expect(single.track(makeTestFrame(1))).resolves.toMatchObject({ frameIndex: 1 });
    await Promise.all([six.dispose(), single.dispose()]);
  });

  it('rejects bad options with typed errors', async () => {
    const engine = new TestEngine({ groundTruth: GT });
    await expect(Tracker.create({ engine, stride: 7 })).rejects.toThrow(
      "Expected a stride between 1 and 6 (the model's clip length) but received 7",
    );
    await expect(Tracker.create({ engine, stride: 0 })).rejects.toThrow('Expected a positive integer stride but received 0');
    await expect(Tracker.create({ engine, device: 'tpu' as never })).rejects.toThrow(InvalidArgumentError);
    await expect(Tracker.create({ engine, latency: 'soon' as never })).rejects.toThrow(InvalidArgumentError);
    await expect(Tracker.create({ engine, seed: -1 })).rejects.toThrow('Expected an integer in [0, 2^64) as seed but received -1');
    await expect(Tracker.create({ engine, seed: 1n << 64n })).rejects.toThrow(InvalidArgumentError);
    await expect(Tracker.create({ engine, templateUpdateInterval: 0 })).rejects.toThrow(InvalidArgumentError);
    await expect(Tracker.create({ engine, featureReuseTolerance: -0.1 })).rejects.toThrow(InvalidArgumentError);
    await expect(Tracker.create({ engine, threads: 1.5 })).rejects.toThrow(InvalidArgumentError);
  });
});

describe('Tracker lifecycle', () => {
  it('exposes the backend, the model and the frame count', async () => {
    const { tracker, engine } = await initialized({ stride: 1 });
    expect(tracker.backend).toBe('test');
    expect(tracker.model).toEqual(engine.model);
    await tracker.track(makeTestFrame(1));
    expect(tracker.frameCount).toBe(2);
  });

  it('rejects every call after dispose(); dispose() is idempotent and leaves a caller-supplied engine alone', async () => {
    const { tracker, engine } = await initialized();
    const first = tracker.dispose();
    expect(tracker.dispose()).toBe(first);
    await first;
    await expect(tracker.track(makeTestFrame(1))).rejects.toThrow(DisposedError);
    await expect(tracker.init(makeTestFrame(0), GT[0] as Box)).rejects.toThrow('Tracker has been disposed and cannot be used any more');
    await expect(tracker.finish()).rejects.toThrow(DisposedError);
    expect(engine.disposeCount).toBe(0);
  });

  it('supports await using', async () => {
    const engine = new TestEngine({ groundTruth: GT });
    let escaped: Tracker | undefined;
    {
      await using tracker = await Tracker.create({ engine, stride: 1 });
      await tracker.init(makeTestFrame(0), GT[0] as Box);
      await tracker.track(makeTestFrame(1));
      escaped = tracker;
    }
    await expect(escaped.track(makeTestFrame(2))).rejects.toThrow(DisposedError);
  });

  it('dispose() lets accepted calls finish, then rejects window-latency frames still waiting', async () => {
    const { tracker } = await initialized({ latency: 'window' }, { delayMs: 2 });
    const done = [tracker.track(makeTestFrame(1)), tracker.track(makeTestFrame(2)), tracker.track(makeTestFrame(3))];
    const waiting = tracker.track(makeTestFrame(4));
    await tracker.dispose();
    await expect(Promise.all(done)).resolves.toHaveLength(3);
    await expect(waiting).rejects.toThrow(DisposedError);
  });

  it('serializes concurrent calls: they resolve in order and never overlap on the engine', async () => {
    const { tracker, engine } = await created({ latency: 'frame' }, { delayMs: 1 });
    const init = tracker.init(makeTestFrame(0), GT[0] as Box);
    const calls = Array.from({ length: 9 }, (_, i) => tracker.track(makeTestFrame(i + 1)));
    const finish = tracker.finish();
    const order: number[] = [];
    calls.forEach((p, i) => void p.then(() => order.push(i + 1)));
    await init;
    const results = await Promise.all(calls);
    await finish;
    expect(results.map((r) => r.frameIndex)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(order).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The test engine rejects overlapping calls, so any overlap would have failed a call above.
    expect(engine.callsOf('decode').length).toBeGreaterThan(0);
  });

  it('copies frames at call time, so the caller may reuse its buffer right away', async () => {
    const { tracker, engine } = await initialized({ latency: 'window' });
    const buffer = makeTestFrame(1);
    const pending: Promise<TrackResult>[] = [];
    for (let k = 1; k <= 6; k++) {
      new DataView(buffer.data.buffer).setUint32(0, k, true);
      pending.push(tracker.track(buffer));
    }
    await Promise.all(pending);
    expect(engine.callsOf('decode').map((d) => d.frameIndices)).toEqual([
      [0, 1, 2, 3],
      [1, 2, 3, 4, 5, 6],
    ]);
  });

  it('init() again starts a new sequence; frames waiting on the old one reject', async () => {
    const { tracker } = await initialized({ latency: 'window' });
    const waiting = tracker.track(makeTestFrame(1));
    await tracker.init(makeTestFrame(0), GT[0] as Box);
    await expect(waiting).rejects.toThrow(NotInitializedError);
    expect(tracker.frameCount).toBe(1);
    const r = await Promise.all([1, 2, 3].map((k) => tracker.track(makeTestFrame(k))));
    expect(r.map((x) => x.frameIndex)).toEqual([1, 2, 3]);
  });
});

describe('Tracker after an engine failure', () => {
  // Scores grow with the frame index so every window picks its newest frame as the template.
  const engineOptions = {
    estimate: ({ frameIndex, call }: { frameIndex: number; call: number }) => ({
      score: 0.3 + 0.01 * frameIndex + 0.001 * (call % 3),
      error: [0.01 * (frameIndex % 3), -0.005 * (call % 2), 0, 0.002] as [number, number, number, number],
    }),
  };
  async function reference(options: Omit<TrackerOptions, 'engine'>, frames: number) {
    const { tracker } = await initialized(options, engineOptions);
    const all: Promise<TrackResult>[] = [];
    for (let k = 1; k <= frames; k++) all.push(tracker.track(makeTestFrame(k)));
    const trajectory = await tracker.finish();
    await Promise.all(all);
    return trajectory;
  }

  for (const method of ['encode', 'decode', 'setTemplate'] as const) {
    for (const latency of ['frame', 'window'] as const) {
      it(`a failed ${method} (${latency} latency) rejects the call and leaves the tracker as before it`, async () => {
        const options = { latency, templateUpdateThreshold: 0 };
        const expected = await reference(options, 12);
        const { tracker, engine } = await initialized(options, engineOptions);
        // Fail the first engine step that touches frame 7. With frame latency that step is
        // track(7); with window latency it is track(9), which completes 7's window. For
        // setTemplate: the second dynamic-template update (init's calls came before failWhen),
        // chosen by window [1..6] and applied at the start of that same step.
        const failing = latency === 'frame' ? 7 : 9;
        let templateCalls = 0;
        if (method === 'setTemplate') engine.failWhen(method, () => ++templateCalls === 2);
        else engine.failWhen(method, (frames) => frames.includes(7));
        const results: Promise<TrackResult>[] = [];
        for (let k = 1; k <= 12; k++) {
          if (k === failing) {
            await expect(tracker.track(makeTestFrame(k))).rejects.toThrow(`injected ${method} failure`);
            expect(tracker.frameCount).toBe(k);
          }
          results.push(tracker.track(makeTestFrame(k)));
        }
        const trajectory = await tracker.finish();
        await Promise.all(results);
        expect(trajectory).toEqual(expected);
      });
    }
  }

  it('a failed init leaves the tracker uninitialized', async () => {
    const { tracker, engine } = await created();
    engine.failNext('setTemplate');
    await expect(tracker.init(makeTestFrame(0), GT[0] as Box)).rejects.toThrow(NativeError);
    await expect(tracker.track(makeTestFrame(1))).rejects.toThrow(NotInitializedError);
    await tracker.init(makeTestFrame(0), GT[0] as Box);
    await expect(tracker.track(makeTestFrame(1))).resolves.toMatchObject({ frameIndex: 1 });
  });

  it('rejects a decoder answer of the wrong length with a NativeError', async () => {
    const { tracker, engine } = await initialized({ stride: 1 });
    const decode = engine.decode.bind(engine);
    engine.decode = async (request) => {
      const r = await decode(request);
      return { tokens: r.tokens.subarray(4), scores: r.scores };
    };
    await expect(tracker.track(makeTestFrame(1))).rejects.toThrow('Expected 8 tokens and scores from the decoder but received 4 tokens and 8 scores');
  });
});

describe('frameIndexOf helper', () => {
  it('reads back the index written by makeTestFrame', () => {
    const f: Frame = makeTestFrame(123456, 4, 4, 'gray');
    expect(frameIndexOf(f)).toBe(123456);
  });
});
