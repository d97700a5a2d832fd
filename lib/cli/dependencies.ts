/**
 * What the `sct-diff` command needs from the rest of the package, as one object so tests can
 * run every subcommand on a deterministic engine (or a failing one) without native code.
 */
import type { EngineModelInfo, Frame } from '../engine/types.js';
import type { DeviceOption } from '../engine/create.js';
import type { Box } from '../geometry/box.js';
import { availableBackends } from '../engine/backends.js';
import type { TrackerOptions } from '../tracker/options.js';
import { Tracker } from '../tracker/tracker.js';
import { evalBenchmarkAccess } from './benchmarks.js';
import { benchmarkEngine } from './engine-benchmark.js';
import { queryGpus, type GpuDescription } from './gpu-info.js';

/** A frame's box as the tracker reports it. */
export interface CliTrackedFrame {
  /** Frame index (0 = init frame). */
  frameIndex: number;
  /** Box in image pixels. */
  box: Box;
  /** Confidence 0..1. */
  score: number;
}

/** The tracker surface the CLI drives (the package's `Tracker` satisfies it). */
export interface CliTracker {
  /** Backend name, e.g. "cpu". */
  readonly backend: string;
  /** Model sizes; `clipLength` bounds how far back boxes can be revised. */
  readonly model: EngineModelInfo;
  /** Start a sequence. */
  init(frame: Frame, box: Box): Promise<void>;
  /** Next frame's box plus revisions of earlier frames. */
  track(frame: Frame): Promise<CliTrackedFrame & { revised: CliTrackedFrame[] }>;
  /** The whole, final trajectory. */
  finish(): Promise<CliTrackedFrame[]>;
  /** Release the engine. */
  dispose(): Promise<void>;
}

/** Options the CLI passes to {@link CliDependencies.createTracker}. */
export interface CliTrackerOptions {
  /** Model file; undefined for the package's default model. */
  model: string | undefined;
  /** Backend choice. */
  device: DeviceOption;
  /** CPU threads (0 = one per core). */
  threads: number;
  /** Window stride; undefined for the tracker's default. */
  stride: number | undefined;
  /** When `track()` resolves (see the Tracker's `latency` option). Default: 'frame'. */
  latency?: 'frame' | 'window';
  /** The Tracker's `templateUpdateThreshold`; undefined for its default. */
  templateUpdateThreshold?: number | undefined;
  /** The Tracker's `templateUpdateInterval`; undefined for its default. */
  templateUpdateInterval?: number | undefined;
  /** The Tracker's noise `seed`; undefined for its default. */
  seed?: bigint | undefined;
  /** Receives the tracker's log lines (CPU fall-back notice, window decodes). Default: none. */
  log?: (level: 'debug' | 'info' | 'warn', message: string) => void;
}

/** One compute backend and whether it can run here. */
export interface CliBackendStatus {
  /** Backend name ("cpu", "cuda", "tensorrt"). */
  name: string;
  /** Whether it can run on this host. */
  available: boolean;
  /** Why not, when unavailable; or details (device name, compute capability, driver). */
  detail: string;
}

/** A speed measurement the `bench` subcommand prints. */
export interface CliBenchRow {
  /** What was measured, e.g. "encoder, 1 frame". */
  name: string;
  /** Milliseconds per call (median). */
  milliseconds: number;
  /** Extra columns, e.g. frames per second. */
  [extra: string]: string | number;
}

/** Benchmarks the `eval` subcommand knows. */
export type CliDatasetName = 'got10k' | 'lasot' | 'trackingnet' | 'otb';

/** One benchmark sequence as the `eval` subcommand needs it. */
export interface CliBenchmarkSequence {
  /** Sequence name, e.g. "GOT-10k_Val_000001". */
  name: string;
  /** The frames: a folder of images, or the image files in order. */
  frames: string | readonly string[];
  /** Ground-truth boxes; test splits may hold only the first frame's. */
  groundTruth: readonly Box[];
  /** Per-frame visibility (LaSOT: not occluded and not out of view; GOT-10k: not absent). */
  visible?: readonly boolean[];
  /** GOT-10k cover labels (0 = absent … 8 = fully visible). */
  cover?: readonly number[];
}

/** Reading a benchmark in its standard layout and writing results in its own format. */
export interface CliBenchmarkAccess {
  /** All sequences of `dataset` under `root`. */
  readSequences(dataset: CliDatasetName, root: string): Promise<CliBenchmarkSequence[]>;
  /**
   * Write one sequence's result files into `folder` in the benchmark's format; returns the
   * paths written.
   */
  writeResults(dataset: CliDatasetName, folder: string, sequence: CliBenchmarkSequence, boxes: readonly Box[], secondsPerFrame: readonly number[]): Promise<string[]>;
}

/** Everything the CLI takes from the package; tests replace parts of it. */
export interface CliDependencies {
  /** Create a tracker. Default: `Tracker.create`. */
  createTracker(options: CliTrackerOptions): Promise<CliTracker>;
  /** Report the compute backends. Default: lib/engine's `availableBackends`; undefined means "this build cannot tell". */
  availableBackends: (() => Promise<CliBackendStatus[]>) | undefined;
  /** GPUs the NVIDIA driver reports (empty when none). Default: nvidia-smi. */
  queryGpus: () => Promise<GpuDescription[]>;
  /** Benchmark readers and writers for `eval`. Default: lib/eval's dataset readers and result writers. */
  benchmarks: CliBenchmarkAccess | undefined;
  /** Run the engine speed test. Default: {@link benchmarkEngine}; undefined means this build has none. */
  runBenchmark: ((options: { model: string | undefined; device: DeviceOption; threads: number; iterations: number }) => Promise<CliBenchRow[]>) | undefined;
}

/**
 * The Tracker options a command line sets besides model, device and threads (stride, latency,
 * dynamic template policy, seed, logger), each left out where not given so the Tracker's
 * default applies. Shared with tests that run the CLI on a test engine, so that they exercise
 * the same mapping the installed command uses.
 */
export function trackingOptionsOf(options: CliTrackerOptions): Omit<TrackerOptions, 'model' | 'device' | 'threads' | 'engine' | 'group'> {
  return {
    ...(options.stride === undefined ? {} : { stride: options.stride }),
    ...(options.latency === undefined ? {} : { latency: options.latency }),
    ...(options.templateUpdateThreshold === undefined ? {} : { templateUpdateThreshold: options.templateUpdateThreshold }),
    ...(options.templateUpdateInterval === undefined ? {} : { templateUpdateInterval: options.templateUpdateInterval }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.log === undefined ? {} : { logger: options.log }),
  };
}

/** The dependencies of the installed command. */
export function defaultDependencies(): CliDependencies {
  return {
    createTracker: (options) =>
      Tracker.create({
        ...(options.model === undefined ? {} : { model: options.model }),
        device: options.device,
        threads: options.threads,
        ...trackingOptionsOf(options),
      }),
    availableBackends: async () =>
      availableBackends().map((backend) => ({ name: backend.name, available: backend.available, detail: backend.reason })),
    queryGpus,
    benchmarks: evalBenchmarkAccess(),
    runBenchmark: (options) =>
      benchmarkEngine({ device: options.device, threads: options.threads, iterations: options.iterations, ...(options.model === undefined ? {} : { model: options.model }) }),
  };
}
