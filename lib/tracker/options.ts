/**
 * Options of `Tracker.create`, their defaults, and their validation.
 */
import { fileURLToPath } from 'node:url';
import type { DeviceOption } from '../engine/create.js';
import type { EngineGroup } from '../engine/group.js';
import type { Engine } from '../engine/types.js';
import { InvalidArgumentError } from '../errors.js';
import { describeReceived } from '../geometry/describe.js';
import { DEFAULT_TEMPLATE_UPDATE_INTERVAL, DEFAULT_TEMPLATE_UPDATE_THRESHOLD } from './template.js';

/** Severity of a tracker log message. */
export type TrackerLogLevel = 'debug' | 'info' | 'warn';

/** Receives the tracker's log messages (window decodes, template updates, feature reuse). */
export type TrackerLogger = (level: TrackerLogLevel, message: string) => void;

/**
 * When `track(frame)` resolves:
 * - 'frame': right away, with a box for that frame. A frame that does not complete a window
 *   gets a provisional box from an extra decoder call over the part of its window received so
 *   far; its final estimate arrives later in `revised`. Costs one decoder call per frame.
 * - 'window': when the frame's window has been decoded (up to stride − 1 frames later, or at
 *   `finish()`). Costs one decoder call per stride frames. Do not `await` each call before
 *   submitting the next frame with stride > 1: the first frame of a window would wait forever.
 */
export type LatencyMode = 'frame' | 'window';

/** Options of `Tracker.create`. */
export interface TrackerOptions {
  /** Path of the `.safetensors` model. Default: the package's `models/sctdiff-tiny.safetensors`. */
  model?: string;
  /** Compute backend: 'auto' tries CUDA then CPU. Default: 'auto'. */
  device?: DeviceOption;
  /** CPU threads; 0 means one per core. Default: 0. */
  threads?: number;
  /**
   * Frames the window slides by, 1 … clipLength. Default: 3 (the paper's overlap ratio 0.5
   * with N = 6), or the model's clip length when that is shorter (a single-frame model: 1).
   * `clipLength` means no overlap (no refinement); 1 decodes at every frame.
   */
  stride?: number;
  /** When `track()` resolves; see {@link LatencyMode}. Default: 'frame'. */
  latency?: LatencyMode;
  /** Minimum score (mean top-1 probability, 0..1) of a frame to become the dynamic template. Default: 0.3. */
  templateUpdateThreshold?: number;
  /** Minimum frames between two dynamic-template frames (positive integer). Default: 1. */
  templateUpdateInterval?: number;
  /**
   * Overlap frames keep their encoder features when the clip's crop moved by at most this
   * fraction of the crop side (corner shift and side change), even if the dynamic template
   * changed since. 0 re-encodes unless the crop and templates are unchanged (the paper's
   * semantics: every clip is encoded with its own crop). Default: 0.
   */
  featureReuseTolerance?: number;
  /** Seed of the decoder's noise (0 … 2^64 − 1); runs with the same seed give the same boxes. Default: 0x5C7D1FFn. */
  seed?: bigint | number;
  /** Run on this engine instead of loading `model` (advanced; the tracker does not dispose it). */
  engine?: Engine;
  /**
   * Run on a new stream of this {@link EngineGroup} instead of loading `model`: the group's one
   * engine batches the calls of all its trackers. The tracker disposes its stream, not the
   * group. Not together with `engine`; `model`, `device` and `threads` are then the group's.
   * Default: none (the tracker loads its own engine).
   */
  group?: EngineGroup;
  /** Log hook. Default: none. */
  logger?: TrackerLogger;
}

/** Default stride (3). */
export const DEFAULT_STRIDE = 3;
/** Default noise seed. */
export const DEFAULT_SEED = 0x5c7d1ffn;

/** The shipped model, resolved relative to the package (lib/tracker or dist/tracker → ../../models). */
export function defaultModelPath(): string {
  return fileURLToPath(new URL('../../models/sctdiff-tiny.safetensors', import.meta.url));
}

/** Options with defaults applied (the engine is chosen separately). */
export interface ResolvedTrackerOptions {
  /** See {@link TrackerOptions.model}. */
  model: string;
  /** See {@link TrackerOptions.device}. */
  device: DeviceOption;
  /** See {@link TrackerOptions.threads}. */
  threads: number;
  /** See {@link TrackerOptions.stride}; checked against the clip length once the model is known. */
  stride: number;
  /** See {@link TrackerOptions.latency}. */
  latency: LatencyMode;
  /** See {@link TrackerOptions.templateUpdateThreshold}. */
  templateUpdateThreshold: number;
  /** See {@link TrackerOptions.templateUpdateInterval}. */
  templateUpdateInterval: number;
  /** See {@link TrackerOptions.featureReuseTolerance}. */
  featureReuseTolerance: number;
  /** See {@link TrackerOptions.seed}. */
  seed: bigint;
  /** See {@link TrackerOptions.logger}. */
  logger: TrackerLogger | undefined;
}

function invalid(expected: string, name: string, value: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`Expected ${expected} ${name} but received ${describeReceived(value)}`);
}

/**
 * Apply defaults and check every option's type and range.
 * @throws InvalidArgumentError, e.g. "Expected a positive integer stride but received 0".
 */
export function resolveTrackerOptions(options: TrackerOptions = {}): ResolvedTrackerOptions {
  if (typeof options !== 'object' || options === null) throw invalid('an object of', 'tracker options', options);
  const model = options.model ?? defaultModelPath();
  if (typeof model !== 'string' || model.length === 0) throw invalid('a non-empty path as', 'model', model);
  const device = options.device ?? 'auto';
  if (device !== 'auto' && device !== 'cpu' && device !== 'cuda') throw invalid("'auto', 'cpu' or 'cuda' as", 'device', device);
  const threads = options.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0) throw invalid('a non-negative integer', 'threads', threads);
  const stride = options.stride ?? DEFAULT_STRIDE;
  if (!Number.isInteger(stride) || stride < 1) throw invalid('a positive integer', 'stride', stride);
  const latency = options.latency ?? 'frame';
  if (latency !== 'frame' && latency !== 'window') throw invalid("'frame' or 'window' as", 'latency', latency);
  const templateUpdateThreshold = options.templateUpdateThreshold ?? DEFAULT_TEMPLATE_UPDATE_THRESHOLD;
  if (typeof templateUpdateThreshold !== 'number' || Number.isNaN(templateUpdateThreshold)) {
    throw invalid('a number as', 'templateUpdateThreshold', templateUpdateThreshold);
  }
  const templateUpdateInterval = options.templateUpdateInterval ?? DEFAULT_TEMPLATE_UPDATE_INTERVAL;
  if (!Number.isInteger(templateUpdateInterval) || templateUpdateInterval < 1) {
    throw invalid('a positive integer', 'templateUpdateInterval', templateUpdateInterval);
  }
  const featureReuseTolerance = options.featureReuseTolerance ?? 0;
  if (typeof featureReuseTolerance !== 'number' || !Number.isFinite(featureReuseTolerance) || featureReuseTolerance < 0) {
    throw invalid('a finite non-negative', 'featureReuseTolerance', featureReuseTolerance);
  }
  const rawSeed = options.seed ?? DEFAULT_SEED;
  let seed: bigint;
  if (typeof rawSeed === 'bigint' && rawSeed >= 0n && rawSeed < 1n << 64n) seed = rawSeed;
  else if (typeof rawSeed === 'number' && Number.isSafeInteger(rawSeed) && rawSeed >= 0) seed = BigInt(rawSeed);
  else throw invalid('an integer in [0, 2^64) as', 'seed', rawSeed);
  const logger = options.logger;
  if (logger !== undefined && typeof logger !== 'function') throw invalid('a function as', 'logger', logger);
  return { model, device, threads, stride, latency, templateUpdateThreshold, templateUpdateInterval, featureReuseTolerance, seed, logger };
}
