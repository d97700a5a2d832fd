/**
 * Parity of the CPU addon with the PyTorch reference (training/sctdiff), through the real
 * addon: on the committed goldens (micro config) and LIVE on fresh random tiny weights that
 * training/make_goldens.py writes with Debian's python3 + torch for a random seed. Tokens must
 * be identical; scores, and (through the addon's `_debug*` methods) crops, features and logits
 * must match within the CPU tolerances of DESIGN.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeAddon, PACKAGE_ROOT, type NativeCrop, type NativeEngineHandle, type NativeFrame } from '../../lib/engine/loader.js';
import { NativeEngine } from '../../lib/engine/native.js';
import type { CropParams, Frame, PixelFormat } from '../../lib/engine/types.js';

/** relative L2 (features, logits, scores) and max-abs (normalized crops) tolerances. */
const FLOAT_TOLERANCE = 1e-5;
const CROP_TOLERANCE = 1e-6;
const PYTHON = '/usr/bin/python3';

interface ArrayEntry {
  file: string;
  dtype: 'uint8' | 'int32' | 'float32' | 'float64';
  shape: number[];
}

interface Manifest {
  format: string;
  config_name: string;
  weights: string;
  frames: Array<{ data: string; width: number; height: number; format: PixelFormat; stride: number }>;
  preprocess: Array<{ frame: number; crop: CropParams; output: string }>;
  encode: Array<{ template0: number; template1: number; search: number; features: string }>;
  decode: Array<{ features: number[]; tokens: string; timesteps: string; seed: string; logits: string; out_tokens: string; scores: string }>;
  arrays: Record<string, ArrayEntry>;
}

/** The `_debug*` methods the binding may expose (native/binding/NOTES.md). */
interface DebugMethods {
  _debugPreprocess(frame: NativeFrame, crop: NativeCrop): Promise<Float32Array>;
  _debugFeatures(slot: number): Promise<Float32Array>;
  _debugDecode(slots: number[], tokens: Int32Array, timesteps: Int32Array, seed: bigint): Promise<{ tokens: Int32Array; scores: Float32Array; logits: Float32Array }>;
}

class GoldenSet {
  readonly manifest: Manifest;

  constructor(readonly dir: string) {
    this.manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(this.manifest.format).toBe('sct-diff-goldens');
  }

  bytes(name: string): Uint8Array {
    const entry = this.entry(name);
    // A copy: typed-array views need an aligned, exclusively owned buffer.
    return new Uint8Array(readFileSync(path.join(this.dir, entry.file)));
  }

  float32(name: string): Float32Array {
    return new Float32Array(this.bytes(name).buffer);
  }

  int32(name: string): Int32Array {
    return new Int32Array(this.bytes(name).buffer);
  }

  frame(index: number): Frame {
    const f = this.manifest.frames[index];
    if (f === undefined) throw new Error(`No frame ${index} in ${this.dir}`);
    return { data: this.bytes(f.data), width: f.width, height: f.height, format: f.format, stride: f.stride };
  }

  private entry(name: string): ArrayEntry {
    const entry = this.manifest.arrays[name];
    if (entry === undefined) throw new Error(`No array ${name} in ${this.dir}`);
    return entry;
  }
}

function relativeL2(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    const d = (actual[i] as number) - e;
    diff += d * d;
    norm += e * e;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
}

function maxAbsDiff(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
  return worst;
}

function nativeFrame(frame: Frame): NativeFrame {
  return { data: frame.data, width: frame.width, height: frame.height, stride: frame.stride ?? 0, format: frame.format };
}

/** Runs every encode and decode of a golden set through the addon and checks the outputs. */
async function checkParity(goldens: GoldenSet): Promise<void> {
  const m = goldens.manifest;
  const engine = await NativeEngine.open({ model: path.join(goldens.dir, m.weights), backend: 'cpu', threads: 2 });
  try {
    expect(engine.backend).toBe('cpu');
    expect(engine.model.name).toBe(m.config_name);
    const crops = m.preprocess.map((entry) => ({ frame: goldens.frame(entry.frame), crop: entry.crop }));
    let templates: [number, number] = [-1, -1];
    for (const [slot, entry] of m.encode.entries()) {
      for (const t of [0, 1] as const) {
        const k = t === 0 ? entry.template0 : entry.template1;
        if (templates[t] !== k) {
          const source = crops[k];
          if (source === undefined) throw new Error(`No preprocess entry ${k}`);
          await engine.setTemplate(t, source.frame, source.crop);
          templates = t === 0 ? [k, templates[1]] : [templates[0], k];
        }
      }
      const search = crops[entry.search];
      if (search === undefined) throw new Error(`No preprocess entry ${entry.search}`);
      await engine.encode([search.frame], [search.crop], [slot]);
    }
    for (const entry of m.decode) {
      const result = await engine.decode({
        slots: entry.features,
        tokens: goldens.int32(entry.tokens),
        timesteps: goldens.int32(entry.timesteps),
        seed: BigInt(entry.seed),
      });
      expect(Array.from(result.tokens)).toEqual(Array.from(goldens.int32(entry.out_tokens)));
      expect(relativeL2(result.scores, goldens.float32(entry.scores))).toBeLessThanOrEqual(FLOAT_TOLERANCE);
    }
  } finally {
    await engine.dispose();
  }
}

/** Crops, features and logits through the `_debug*` methods (returns false when absent). */
async function checkDebugParity(goldens: GoldenSet): Promise<boolean> {
  const m = goldens.manifest;
  const addon = loadNativeAddon();
  const handle = new addon.NativeEngine(path.join(goldens.dir, m.weights), 'cpu', 2) as NativeEngineHandle & Partial<DebugMethods>;
  try {
    await handle.open();
    if (handle._debugPreprocess === undefined || handle._debugFeatures === undefined || handle._debugDecode === undefined) return false;
    for (const entry of m.preprocess) {
      const crop = await handle._debugPreprocess(nativeFrame(goldens.frame(entry.frame)), entry.crop);
      expect(maxAbsDiff(crop, goldens.float32(entry.output))).toBeLessThanOrEqual(CROP_TOLERANCE);
    }
    for (const [slot, entry] of m.encode.entries()) {
      for (const [t, k] of [entry.template0, entry.template1].entries()) {
        const source = m.preprocess[k];
        if (source === undefined) throw new Error(`No preprocess entry ${k}`);
        await handle.setTemplate(t, nativeFrame(goldens.frame(source.frame)), source.crop);
      }
      const search = m.preprocess[entry.search];
      if (search === undefined) throw new Error(`No preprocess entry ${entry.search}`);
      await handle.encode([nativeFrame(goldens.frame(search.frame))], [search.crop], [slot]);
      expect(relativeL2(await handle._debugFeatures(slot), goldens.float32(entry.features))).toBeLessThanOrEqual(FLOAT_TOLERANCE);
    }
    for (const entry of m.decode) {
      const out = await handle._debugDecode(entry.features, goldens.int32(entry.tokens), goldens.int32(entry.timesteps), BigInt(entry.seed));
      expect(relativeL2(out.logits, goldens.float32(entry.logits))).toBeLessThanOrEqual(FLOAT_TOLERANCE);
      expect(Array.from(out.tokens)).toEqual(Array.from(goldens.int32(entry.out_tokens)));
    }
    return true;
  } finally {
    await handle.dispose();
  }
}

describe('CPU addon vs the PyTorch reference', () => {
  const committed = new GoldenSet(path.join(PACKAGE_ROOT, 'test/fixtures/goldens'));

  it('decodes the committed goldens to identical tokens and matching scores', async () => {
    await checkParity(committed);
  });

  it('matches crops, features and logits of the committed goldens through the debug methods', async () => {
    expect(await checkDebugParity(committed)).toBe(true);
  });

  describe('live: fresh random tiny weights from training/make_goldens.py', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sct-diff-parity-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    // A new seed every run: any weights, frames and crops must agree, not one lucky set.
    const seed = Math.floor(Math.random() * 2 ** 31);

    it(`reference and addon agree (seed ${seed})`, { timeout: 240_000 }, async () => {
      expect(existsSync(PYTHON)).toBe(true);
      const run = spawnSync(PYTHON, [path.join(PACKAGE_ROOT, 'training/make_goldens.py'), '--seed', String(seed), '--out', dir], {
        encoding: 'utf8',
        timeout: 200_000,
      });
      expect(run.status, `make_goldens.py failed:\n${run.stderr}`).toBe(0);
      const live = new GoldenSet(dir);
      expect(live.manifest.config_name).toBe('tiny');
      await checkParity(live);
      expect(await checkDebugParity(live)).toBe(true);
    });
  });
});
