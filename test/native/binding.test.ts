/**
 * The N-API binding's engine lifecycle: one worker thread per engine, calls settled in call
 * order, dispose idempotent and final, errors typed with a code. The raw handle is exercised
 * on models that fail to load; the full cycle on the CPU engine with a nano model. A model written by training/export.py must load with the config
 * the exporter wrote.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../lib/engine/create.js';
import { loadNativeAddon, PACKAGE_ROOT, type NativeEngineHandle } from '../../lib/engine/loader.js';
import { inspectModel, NativeEngine } from '../../lib/engine/native.js';
import type { Frame } from '../../lib/engine/types.js';
import { DisposedError, InvalidArgumentError, InvalidFrameError } from '../../lib/errors.js';
import { nanoParts, serialize, weightsFolder } from '../fixtures/weights/nano-weights.js';

const addon = loadNativeAddon();
const folder = weightsFolder();
afterAll(() => folder.cleanup());
const nanoModel = folder.write('nano.safetensors', serialize(nanoParts()));
const damagedModel = folder.write('damaged.safetensors', serialize(nanoParts()).subarray(0, 300));

function settleOrder(promises: Promise<unknown>[]): Promise<number[]> {
  const order: number[] = [];
  return Promise.all(promises.map((promise, i) => promise.then(() => order.push(i), () => order.push(i)))).then(() => order);
}

describe('NativeEngine handle (raw addon class)', () => {
  it('refuses an unknown backend, bad CUDA search folders and bad thread counts', () => {
    expect(() => new addon.NativeEngine(nanoModel, 'metal', 0)).toThrow(/Expected backend 'cpu' or 'cuda' but received 'metal'/);
    expect(() => new addon.NativeEngine(nanoModel, 'cuda', 0, [1 as unknown as string])).toThrow(/Expected cudaSearchDirs\[0\] to be a string/);
    expect(() => new addon.NativeEngine(nanoModel, 'cpu', -1)).toThrow(/Expected an integer thread count/);
    expect(() => new addon.NativeEngine(nanoModel, 'cpu', 1.5)).toThrow(/Expected an integer thread count/);
  });

  it('settles queued calls in call order, then disposes idempotently and rejects later calls', async () => {
    const handle: NativeEngineHandle = new addon.NativeEngine(damagedModel, 'cpu', 1);
    const open = handle.open();
    const calls = [
      open,
      handle.decode([0], new Int32Array(4), new Int32Array(1), 1n),
      handle.encode([], [], []),
      handle.decode([1], new Int32Array(4), new Int32Array(1), 2n),
    ];
    const order = settleOrder(calls);
    await expect(open).rejects.toMatchObject({ code: 'ERR_MODEL_LOAD', file: damagedModel });
    // The engine never loaded, so queued calls are refused with a coded error, not a crash.
    await expect(calls[1]).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/no model loaded/) });
    expect(await order).toEqual([0, 1, 2, 3]);
    expect(handle.disposed).toBe(false);
    const first = handle.dispose();
    const second = handle.dispose();
    await Promise.all([first, second]);
    expect(handle.disposed).toBe(true);
    await expect(handle.decode([0], new Int32Array(4), new Int32Array(1), 1n)).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
    await expect(handle.dispose()).resolves.toBeUndefined();
  });

  it('runs many engines side by side, each on its own thread', async () => {
    const handles = Array.from({ length: 16 }, () => new addon.NativeEngine(damagedModel, 'cpu', 1));
    const results = await Promise.allSettled(handles.map((handle) => handle.open()));
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    await Promise.all(handles.map((handle) => handle.dispose()));
  });

  it('rejects frames whose buffer is shorter than width, height and stride say', () => {
    const handle = new addon.NativeEngine(damagedModel, 'cpu', 1);
    const frame = { data: new Uint8Array(10), width: 4, height: 4, stride: 12, format: 'rgb' };
    expect(() => handle.setTemplate(0, frame, { x0: 0, y0: 0, side: 4, outputSize: 8 })).toThrow(/Expected at least 48 bytes/);
    expect(() => handle.setTemplate(0, { ...frame, data: new Uint8Array(48), stride: 11 }, { x0: 0, y0: 0, side: 4, outputSize: 8 })).toThrow(
      /stride >= width x channels = 12/,
    );
    return handle.dispose();
  });
});

function grayFrame(width: number, height: number, seed: number): Frame {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 17) % 251;
  return { data, width, height, format: 'gray' };
}

describe('NativeEngine with the CPU backend', () => {
  let engine: NativeEngine;
  beforeAll(async () => {
    engine = await NativeEngine.open({ model: nanoModel, backend: 'cpu', threads: 1 });
  });
  afterAll(() => engine?.dispose());

  it('reports the model info of the file', () => {
    expect(engine.backend).toBe('cpu');
    expect(engine.model).toMatchObject({ name: 'nano', searchSize: 16, templateSize: 8, clipLength: 2, bins: 4, tNew: 9, tRefine: 5 });
  });

  it('runs template, encode and decode; concurrent decodes resolve in call order and deterministically', async () => {
    const frame = grayFrame(40, 30, 1);
    await engine.setTemplate(0, frame, { x0: 5, y0: 5, side: 10, outputSize: 8 });
    await engine.setTemplate(1, frame, { x0: 6, y0: 4, side: 10, outputSize: 8 });
    await engine.encode([grayFrame(40, 30, 2), grayFrame(40, 30, 3)], [
      { x0: 0, y0: 0, side: 20, outputSize: 16 },
      { x0: 2, y0: 1, side: 20, outputSize: 16 },
    ], [0, 1]);
    const request = { slots: [0, 1], tokens: Int32Array.from([1, 2, 5, 6, 1, 2, 5, 6]), timesteps: Int32Array.from([9, 5]), seed: 7n };
    const calls = Array.from({ length: 12 }, (_, i) => engine.decode({ ...request, seed: BigInt(i % 3) }));
    const order = await settleOrder(calls);
    expect(order).toEqual([...Array(12).keys()]);
    const results = await Promise.all(calls);
    for (const result of results) {
      expect(result.tokens).toBeInstanceOf(Int32Array);
      expect(result.tokens.length).toBe(8);
      expect(result.scores.length).toBe(8);
      for (const score of result.scores) expect(score).toBeGreaterThan(0);
    }
    // Same seed, same inputs → identical outputs.
    expect(results[3]?.tokens).toEqual(results[0]?.tokens);
    expect(results[3]?.scores).toEqual(results[0]?.scores);
  });

  it('validates frames and requests on the JS side with typed errors', async () => {
    await expect(engine.setTemplate(0, { data: new Uint8Array(3), width: 2, height: 2, format: 'rgb' }, { x0: 0, y0: 0, side: 2, outputSize: 8 })).rejects.toThrow(
      InvalidFrameError,
    );
    await expect(engine.encode([grayFrame(8, 8, 0)], [{ x0: 0, y0: 0, side: 8, outputSize: 16 }], [4])).rejects.toThrow(
      /Expected an integer in \[0, 3\] for slots\[0\] but received 4/,
    );
    await expect(engine.decode({ slots: [0], tokens: new Int32Array(3), timesteps: new Int32Array(1), seed: 0n })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(engine.decode({ slots: [0], tokens: new Int32Array(4), timesteps: new Int32Array(1), seed: -1n })).rejects.toThrow(
      /bigint seed in \[0, 2\^64\)/,
    );
  });

  it('dispose is idempotent and later calls reject with DisposedError carrying the caller stack', async () => {
    const own = await NativeEngine.open({ model: nanoModel, backend: 'cpu', threads: 1 });
    // Calls made before dispose() still complete: they were queued first.
    const crop = { x0: 0, y0: 0, side: 8, outputSize: 8 };
    const pending = [
      own.setTemplate(0, grayFrame(8, 8, 0), crop),
      own.setTemplate(1, grayFrame(8, 8, 1), crop),
      own.encode([grayFrame(8, 8, 2)], [{ ...crop, outputSize: 16 }], [0]),
      own.decode({ slots: [0], tokens: Int32Array.from([1, 2, 3, 4]), timesteps: Int32Array.from([9]), seed: 1n }),
    ];
    await Promise.all([own.dispose(), own.dispose()]);
    const settled = await Promise.allSettled(pending);
    expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const failure = await own.decode({ slots: [0], tokens: new Int32Array(4), timesteps: new Int32Array(1), seed: 1n }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DisposedError);
    expect((failure as Error).stack).toContain('binding.test.ts');
    await expect(own.setTemplate(0, grayFrame(8, 8, 0), { x0: 0, y0: 0, side: 8, outputSize: 8 })).rejects.toThrow(DisposedError);
  });
});

describe('a model written by training/export.py', () => {
  const exportScript = path.join(PACKAGE_ROOT, 'training', 'export.py');
  const python = '/usr/bin/python3';
  let model = '';
  beforeAll(() => {
    model = path.join(folder.dir, 'tiny.safetensors');
    const run = spawnSync(python, [exportScript, '--config', 'tiny', '--random-seed', '0', '--out', model], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`export.py failed: ${run.stderr}`);
  }, 120_000);

  it('validates and reports the tiny config', () => {
    const info = inspectModel(model);
    expect(info.metadata.format_version).toBe('1');
    expect(JSON.parse(info.metadata.config ?? '{}').name).toBe('tiny');
    expect(info.model).toEqual({
      name: 'tiny',
      searchSize: 128,
      templateSize: 64,
      searchFactor: 4,
      templateFactor: 2,
      clipLength: 6,
      bins: 400,
      rangeMin: -0.5,
      rangeMax: 1.5,
      diffusionSteps: 1000,
      tNew: 999,
      tRefine: 500,
      patch: 16,
      encoderDim: 192,
      encoderDepth: 6,
      decoderDim: 128,
      decoderBlocks: 6,
      vocab: 802,
    });
    expect(info.dtypes).toEqual({ F32: info.tensorCount });
  });

  it('loads into a CPU engine through createEngine', async () => {
    const engine = await createEngine({ model, device: 'cpu', threads: 1 });
    try {
      expect(engine.backend).toBe('cpu');
      expect(engine.model).toMatchObject({ name: 'tiny', searchSize: 128, templateSize: 64, clipLength: 6, bins: 400, tNew: 999, tRefine: 500 });
    } finally {
      await engine.dispose();
    }
  });
});

describe('engines that are never disposed', () => {
  // Run in a child process: the point is how the process ends.
  function runChild(body: string): { status: number | null; stdout: string; stderr: string } {
    const script = `
      const addon = require('node-gyp-build')(${JSON.stringify(PACKAGE_ROOT)});
      const model = ${JSON.stringify(nanoModel)};
      ${body}
    `;
    const run = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 30_000, cwd: PACKAGE_ROOT });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  it('do not keep the process alive once idle, and the process exits cleanly', () => {
    const run = runChild(`
      const engine = new addon.NativeEngine(model, 'cpu', 1);
      engine.open().then((info) => console.log('opened', info.name));
    `);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('opened nano');
  });

  it('are collected without crashing when garbage collection finds them', () => {
    const run = runChild(`
      (async () => {
        for (let i = 0; i < 8; i++) {
          const engine = new addon.NativeEngine(model, 'cpu', 1);
          await engine.open();
        }
        for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setTimeout(r, 10)); }
        console.log('collected');
      })();
    `);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('collected');
  });

  it('survive their worker_threads environment being terminated mid-call', () => {
    const run = runChild(`
      const { Worker } = require('node:worker_threads');
      const workerCode = \`
        const { parentPort, workerData } = require('node:worker_threads');
        const addon = require('node-gyp-build')(workerData.root);
        (async () => {
          const engine = new addon.NativeEngine(workerData.model, 'cpu', 1);
          await engine.open();
          const gray = (s) => ({ data: new Uint8Array(64).fill(s), width: 8, height: 8, stride: 8, format: 'gray' });
          await engine.setTemplate(0, gray(1), { x0: 0, y0: 0, side: 8, outputSize: 8 });
          await engine.setTemplate(1, gray(2), { x0: 0, y0: 0, side: 8, outputSize: 8 });
          await engine.encode([gray(3)], [{ x0: 0, y0: 0, side: 8, outputSize: 16 }], [0]);
          for (let i = 0; i < 200; i++) engine.decode([0], Int32Array.from([1, 2, 3, 4]), Int32Array.from([9]), BigInt(i));
          parentPort.postMessage('busy');
        })();
      \`;
      (async () => {
        for (let round = 0; round < 5; round++) {
          const worker = new Worker(workerCode, { eval: true, workerData: { root: ${JSON.stringify(PACKAGE_ROOT)}, model } });
          await new Promise((resolve) => worker.once('message', resolve));
          await worker.terminate();
        }
        console.log('terminated');
      })();
    `);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('terminated');
  });
});
