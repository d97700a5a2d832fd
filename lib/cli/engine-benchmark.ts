/**
 * The engine speed test behind `sct-diff bench`: times the engine's own calls (template setup,
 * encoder, decoder) and a whole tracking loop through the public API on synthetic frames, and
 * reports medians. Every number is measured on this host in this run.
 */
import { createEngine, type DeviceOption } from '../engine/create.js';
import type { Engine, Frame } from '../engine/types.js';
import { cropAround } from '../geometry/crop.js';
import { Tracker } from '../tracker/tracker.js';
import { defaultModelPath } from '../tracker/options.js';
import type { CliBenchRow } from './dependencies.js';

/** Options of {@link benchmarkEngine}. */
export interface EngineBenchmarkOptions {
  /** Model file. Default: the bundled model. */
  model?: string;
  /** Backend. Default: 'auto'. */
  device?: DeviceOption;
  /** CPU threads, 0 = one per core. Default: 0. */
  threads?: number;
  /** Timed repetitions of each call (after 2 warm-up calls). Default: 10. */
  iterations?: number;
  /** Frame size of the synthetic video. Default: 640 × 480. */
  width?: number;
  /** See `width`. Default: 480. */
  height?: number;
  /** Run on this engine instead of loading `model` (tests); it is not disposed. */
  engine?: Engine;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function timeCall(iterations: number, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 2; i++) await call();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    await call();
    times.push(performance.now() - started);
  }
  return median(times);
}

/** A textured frame whose content moves with `index`, so no call can be served from a cache. */
function syntheticFrame(width: number, height: number, index: number): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      data[at] = (x * 3 + index * 5) & 255;
      data[at + 1] = (y * 5 + x) & 255;
      data[at + 2] = ((x ^ y) + index * 7) & 255;
    }
  }
  return { data, width, height, format: 'rgb' };
}

/**
 * Measure the engine on this host.
 * @returns Rows: name, median milliseconds, and frames per second where it applies.
 * @throws ModelLoadError / BackendUnavailableError from loading the engine.
 */
export async function benchmarkEngine(options: EngineBenchmarkOptions = {}): Promise<CliBenchRow[]> {
  const iterations = options.iterations ?? 10;
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const engine =
    options.engine ?? (await createEngine({ model: options.model ?? defaultModelPath(), device: options.device ?? 'auto', threads: options.threads ?? 0, logger: null }));
  try {
    const info = engine.model;
    const clip = info.clipLength;
    const frames = Array.from({ length: clip }, (_, i) => syntheticFrame(width, height, i));
    const center = { x: width / 2, y: height / 2 };
    const target = { width: width / 8, height: height / 6 };
    const templateCrop = cropAround(center, target, info.templateFactor, info.templateSize);
    const searchCrop = cropAround(center, target, info.searchFactor, info.searchSize);
    const frame0 = frames[0] as Frame;

    const rows: CliBenchRow[] = [];
    const template = await timeCall(iterations, async () => {
      await engine.setTemplate(0, frame0, templateCrop);
      await engine.setTemplate(1, frame0, templateCrop);
    });
    rows.push({ name: 'templates (2)', milliseconds: template, fps: '' });
    const encodeOne = await timeCall(iterations, () => engine.encode([frame0], [searchCrop], [0]));
    rows.push({ name: 'encode 1 frame', milliseconds: encodeOne, fps: 1000 / encodeOne });
    const slots = frames.map((_, i) => i);
    const encodeClip = await timeCall(iterations, () => engine.encode(frames, frames.map(() => searchCrop), slots));
    rows.push({ name: `encode ${clip} frames`, milliseconds: encodeClip, fps: (1000 * clip) / encodeClip });
    const tokens = new Int32Array(4 * clip).fill(Math.floor(info.bins / 2));
    const timesteps = new Int32Array(clip).fill(info.tNew);
    let seed = 1n;
    const decode = await timeCall(iterations, () => engine.decode({ slots, tokens, timesteps, seed: seed++ }));
    rows.push({ name: `decode window of ${clip}`, milliseconds: decode, fps: '' });

    // The whole tracker on a moving sequence, window latency (what `track` runs).
    // Enough frames that the first windows (no overlap yet) do not dominate the average.
    const sequence = Array.from({ length: 1 + Math.max(5 * clip, 3 * iterations) }, (_, i) => syntheticFrame(width, height, i));
    const tracker = await Tracker.create({ engine, latency: 'window' });
    try {
      await tracker.init(sequence[0] as Frame, { x: center.x - target.width / 2, y: center.y - target.height / 2, ...target });
      const started = performance.now();
      const pending = sequence.slice(1).map((f) => tracker.track(f));
      await tracker.finish();
      await Promise.all(pending);
      const perFrame = (performance.now() - started) / (sequence.length - 1);
      rows.push({ name: `tracking (${width}x${height}, default stride)`, milliseconds: perFrame, fps: 1000 / perFrame });
    } finally {
      await tracker.dispose();
    }
    return rows.map((row) => ({ ...row, backend: engine.backend }));
  } finally {
    if (!options.engine) await engine.dispose();
  }
}
