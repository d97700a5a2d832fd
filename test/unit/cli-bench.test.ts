import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/index.js';
import { benchmarkEngine } from '../../lib/cli/engine-benchmark.js';
import { cpuBackendStatus } from '../../lib/engine/backends.js';
import type { CropParams, DecodeRequest, DecodeResult, Engine, Frame } from '../../lib/engine/types.js';
import { TEST_MODEL } from '../helpers/test-engine.js';

/** An engine whose calls take a known time, so the benchmark's arithmetic can be checked. */
class TimedEngine implements Engine {
  readonly backend = 'timed';
  readonly model = TEST_MODEL;
  readonly calls: string[] = [];
  constructor(private readonly msPerEncodedFrame: number) {}
  async setTemplate(_index: 0 | 1, _frame: Frame, _crop: CropParams): Promise<void> {
    this.calls.push('setTemplate');
  }
  async encode(frames: Frame[], crops: CropParams[], slots: number[]): Promise<void> {
    expect(crops).toHaveLength(frames.length);
    expect(slots).toHaveLength(frames.length);
    this.calls.push(`encode ${frames.length}`);
    const until = performance.now() + this.msPerEncodedFrame * frames.length;
    while (performance.now() < until) {
      // busy-wait: timers are too coarse for a few milliseconds
    }
  }
  async decode(request: DecodeRequest): Promise<DecodeResult> {
    expect(request.tokens).toHaveLength(4 * request.slots.length);
    expect(request.timesteps).toHaveLength(request.slots.length);
    this.calls.push(`decode ${request.slots.length}`);
    return { tokens: new Int32Array(4 * request.slots.length).map((_, i) => (i % 4 < 2 ? 150 : 250)), scores: new Float32Array(4 * request.slots.length).fill(0.5) };
  }
  async dispose(): Promise<void> {
    this.calls.push('dispose');
  }
}

describe('benchmarkEngine', () => {
  it('reports medians that match the time the engine takes', async () => {
    const engine = new TimedEngine(4);
    const rows = await benchmarkEngine({ engine, iterations: 5, width: 64, height: 48 });
    expect(rows.map((r) => r.name)).toEqual(['templates (2)', 'encode 1 frame', 'encode 6 frames', 'decode window of 6', 'tracking (64x48, default stride)']);
    const byName = new Map(rows.map((r) => [r.name, r]));
    expect(byName.get('encode 1 frame')!.milliseconds).toBeGreaterThanOrEqual(4);
    expect(byName.get('encode 1 frame')!.milliseconds).toBeLessThan(4 + 40);
    expect(byName.get('encode 6 frames')!.milliseconds).toBeGreaterThanOrEqual(24);
    expect(byName.get('encode 6 frames')!.fps).toBeCloseTo((6 * 1000) / byName.get('encode 6 frames')!.milliseconds, 9);
    expect(rows.every((r) => r.backend === 'timed')).toBe(true);
    // 2 warm-up + 5 timed calls of each kind; the engine given by the caller is not disposed.
    expect(engine.calls.filter((c) => c === 'encode 1').length).toBeGreaterThanOrEqual(7);
    expect(engine.calls).not.toContain('dispose');
  });
});

const WEIGHTS = join(import.meta.dirname, '..', 'fixtures', 'goldens', 'weights.safetensors');

describe.skipIf(!(existsSync(WEIGHTS) && cpuBackendStatus().available))('sct-diff bench on the native CPU engine', () => {
  it('prints a table of measured rows', async () => {
    let out = '';
    const code = await main(['bench', '--model', WEIGHTS, '--device', 'cpu', '--threads', '1', '--iterations', '2', '--json'], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: () => true },
    });
    expect(code).toBe(0);
    const rows = JSON.parse(out) as Array<{ name: string; milliseconds: number; backend: string }>;
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(row.milliseconds).toBeGreaterThan(0);
      expect(row.backend).toBe('cpu');
    }
  });
});
