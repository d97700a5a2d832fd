/**
 * Finds and loads the compiled addon (`sct_diff.node`) through node-gyp-build: a matching
 * binary in `prebuilds/` first, then `build/Release` from a local compile.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BackendUnavailableError } from '../errors.js';
import type { EngineModelInfo } from './types.js';

/** Model sizes the addon reports: {@link EngineModelInfo} plus network sizes for tools. */
export interface NativeModelInfo extends EngineModelInfo {
  /** Encoder patch size in pixels. */
  patch: number;
  /** Encoder width D. */
  encoderDim: number;
  /** Encoder blocks. */
  encoderDepth: number;
  /** Decoder width d. */
  decoderDim: number;
  /** Decoder diffusion blocks. */
  decoderBlocks: number;
  /** Token vocabulary size (2 × bins + 2). */
  vocab: number;
}

/** What `inspectModel` reports about a validated weight file. */
export interface NativeModelInspection {
  /** The path as given. */
  path: string;
  /** Sizes from the config stored in the file. */
  model: NativeModelInfo;
  /** Number of tensors in the file. */
  tensorCount: number;
  /** Total number of weights (elements). */
  parameterCount: number;
  /** Tensor count per dtype ("F32", "F16", "BF16"). */
  dtypes: Record<string, number>;
  /** The file's string metadata (format, format_version, config). */
  metadata: Record<string, string>;
}

/** A frame as the addon takes it: already validated, stride filled in. */
export interface NativeFrame {
  data: Uint8Array;
  width: number;
  height: number;
  stride: number;
  format: string;
}

/** A crop as the addon takes it. */
export interface NativeCrop {
  x0: number;
  y0: number;
  side: number;
  outputSize: number;
}

/**
 * The addon's `NativeEngine`: one model on one worker thread; calls run in call order.
 * Rejections are plain Errors with a `code` (see lib/engine/native.ts for the mapping).
 */
export interface NativeEngineHandle {
  /** Backend name given at construction. */
  readonly backend: string;
  /** Set once `open()` resolved. */
  readonly modelInfo: NativeModelInfo | undefined;
  /** True once `dispose()` was called. */
  readonly disposed: boolean;
  open(): Promise<NativeModelInfo>;
  setTemplate(index: number, frame: NativeFrame, crop: NativeCrop): Promise<void>;
  encode(frames: NativeFrame[], crops: NativeCrop[], slots: number[]): Promise<void>;
  decode(slots: number[], tokens: Int32Array, timesteps: Int32Array, seed: bigint): Promise<{ tokens: Int32Array; scores: Float32Array }>;
  dispose(): Promise<void>;
}

/** One batch the group's worker ran (the `_debugBatches()` test hook). */
export interface NativeBatchRecord {
  /** 'encode' and 'decode' batches gather several streams; 'alone' and 'group' calls run by themselves. */
  kind: 'encode' | 'decode' | 'alone' | 'group';
  /** Requests in the batch (1 … 16). */
  size: number;
}

/**
 * The addon's `NativeEngineGroup`: one engine (CPU or CUDA) serving many streams on one worker
 * thread that batches the encodes (or decodes) of different streams queued while it was busy.
 */
export interface NativeEngineGroupHandle {
  /** The backend it was constructed for: 'cpu' or 'cuda'. */
  readonly backend: string;
  /** Set once `open()` resolved. */
  readonly modelInfo: NativeModelInfo | undefined;
  /** True once `dispose()` was called. */
  readonly disposed: boolean;
  open(): Promise<NativeModelInfo>;
  setTemplate(stream: number, index: number, frame: NativeFrame, crop: NativeCrop): Promise<void>;
  encode(stream: number, frames: NativeFrame[], crops: NativeCrop[], slots: number[]): Promise<void>;
  decode(
    stream: number,
    slots: number[],
    tokens: Int32Array,
    timesteps: Int32Array,
    seed: bigint,
  ): Promise<{ tokens: Int32Array; scores: Float32Array }>;
  releaseStream(stream: number): Promise<void>;
  dispose(): Promise<void>;
  /** Test hook: a stream's features in a slot, [Hs·Ws, D]. */
  _debugFeatures(stream: number, slot: number): Promise<Float32Array>;
  /** Test hook: the batches run since the last call, oldest first. */
  _debugBatches(): NativeBatchRecord[];
  /** Test hook: hold the worker (calls pile up) until `_debugResume()`. */
  _debugSuspend(): void;
  /** Test hook: let the worker take batches again. */
  _debugResume(): void;
}

/** The GPU the CUDA library's probe describes (fields parsed from its one-line summary). */
export interface NativeCudaDevice {
  /** The probe's whole line, e.g. "NVIDIA H100 80GB HBM3; compute 9.0; 132 SMs; 79.1 GiB; driver 13.0; runtime 13.0; cublasLt 130100". */
  summary: string;
  /** Device name, e.g. "NVIDIA H100 80GB HBM3". */
  name?: string;
  /** Compute capability "major.minor", e.g. "9.0". */
  computeCapability?: string;
  /** Streaming multiprocessors. */
  multiprocessors?: number;
  /** Device memory in GiB. */
  memoryGiB?: number;
  /** CUDA version the driver supports, e.g. "13.0". */
  driverVersion?: string;
  /** CUDA runtime version the library was built with, e.g. "13.0". */
  runtimeVersion?: string;
  /** cuBLASLt version found at run time, e.g. "130100". */
  cublasLtVersion?: string;
}

/** What the addon's `probeCuda` reports about the CUDA backend library. */
export interface NativeCudaProbe {
  /** True when the library loaded, its ABI matches and it sees a usable device. */
  available: boolean;
  /** Why not (with possible fixes), or which device and library when available. */
  reason: string;
  /** The library files tried, in order. */
  searched: string[];
  /** The library that was loaded, when one was. */
  library?: string;
  /** The device, when available. */
  device?: NativeCudaDevice;
}

/** The addon's exports. */
export interface NativeAddon {
  /** `cudaSearchDirs`: folders searched for libsctdiff_cuda.so (backend 'cuda' only). */
  NativeEngine: new (modelPath: string, backend: string, threads: number, cudaSearchDirs?: string[]) => NativeEngineHandle;
  /** One engine serving many streams (lib/engine/group.ts); backend default 'cpu'; `cudaSearchDirs` as for NativeEngine. */
  NativeEngineGroup: new (modelPath: string, threads: number, backend?: string, cudaSearchDirs?: string[]) => NativeEngineGroupHandle;
  /** Load libsctdiff_cuda.so ($SCTDIFF_CUDA_LIBRARY, else the first of `searchDirs` holding it) and probe the device. Never throws for a host problem. */
  probeCuda(searchDirs: string[]): NativeCudaProbe;
  /** Validate a weight file and describe it (synchronous: reads only the header). */
  inspectModel(path: string): NativeModelInspection;
  /** One weight of a validated file as float32 (F16/BF16 converted exactly). */
  readTensor(path: string, name: string): Float32Array;
  /** What this binary contains. */
  build: { cpu: boolean; napiVersion: number };
}

/** Root of the installed package (both lib/engine and dist/engine sit two levels below). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

let cached: { addon: NativeAddon; file: string } | { error: BackendUnavailableError } | undefined;

/**
 * Load the addon once per process.
 * @throws BackendUnavailableError explaining what is missing and how to build it.
 */
export function loadNativeAddon(): NativeAddon {
  if (cached === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const nodeGypBuild = require('node-gyp-build') as ((root: string) => unknown) & { resolve(root: string): string };
      // resolve() applies the same search as loading, so `file` is the binary that loaded.
      const file = nodeGypBuild.resolve(PACKAGE_ROOT);
      cached = { addon: nodeGypBuild(PACKAGE_ROOT) as NativeAddon, file };
    } catch (error) {
      cached = { error: addonUnavailableError(error) };
    }
  }
  if ('error' in cached) throw cached.error;
  return cached.addon;
}

/**
 * Path of the loaded addon binary (`prebuilds/<platform>/….node` or `build/Release/sct_diff.node`).
 * @throws BackendUnavailableError when the addon cannot be loaded.
 */
export function loadedAddonFile(): string {
  loadNativeAddon();
  if (cached === undefined || 'error' in cached) throw new Error('unreachable: the addon loaded');
  return cached.file;
}

/** The error thrown when the addon cannot be loaded: what went wrong and how to build it. */
export function addonUnavailableError(cause: unknown): BackendUnavailableError {
  const detail = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  const error = new BackendUnavailableError(
    'cpu',
    `The sct-diff native addon could not be loaded (${detail}). ` +
      'No prebuilt binary matches this platform and no local build was found in build/Release. ' +
      'To fix: run `npm rebuild sct-diff` (or `npm run build:native` inside the package) to compile it; ' +
      'this needs a C++17 compiler (g++ or clang), make, python3, and the Eigen and nlohmann-json headers ' +
      '(Debian/Ubuntu: apt-get install g++ make python3 libeigen3-dev nlohmann-json3-dev). ' +
      'See docs/troubleshooting.md.',
  );
  (error as { cause?: unknown }).cause = cause;
  return error;
}
