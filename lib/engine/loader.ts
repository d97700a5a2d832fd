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

/** The addon's exports. */
export interface NativeAddon {
  NativeEngine: new (modelPath: string, backend: string, threads: number) => NativeEngineHandle;
  /** Validate a weight file and describe it (synchronous: reads only the header). */
  inspectModel(path: string): NativeModelInspection;
  /** One weight of a validated file as float32 (F16/BF16 converted exactly). */
  readTensor(path: string, name: string): Float32Array;
  /** What this binary contains. */
  build: { cpu: boolean; napiVersion: number };
}

/** Root of the installed package (both lib/engine and dist/engine sit two levels below). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

let cached: { addon: NativeAddon } | { error: BackendUnavailableError } | undefined;

/**
 * Load the addon once per process.
 * @throws BackendUnavailableError explaining what is missing and how to build it.
 */
export function loadNativeAddon(): NativeAddon {
  if (cached === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const nodeGypBuild = require('node-gyp-build') as (root: string) => unknown;
      cached = { addon: nodeGypBuild(PACKAGE_ROOT) as NativeAddon };
    } catch (error) {
      cached = { error: addonUnavailableError(error) };
    }
  }
  if ('error' in cached) throw cached.error;
  return cached.addon;
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
