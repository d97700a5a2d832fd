/**
 * The native engine behind the {@link Engine} interface: validates arguments on the JS side,
 * forwards frames zero-copy to the addon's worker thread, and turns the addon's coded errors
 * into sct-diff's typed errors carrying the caller's stack (the native rejection's own stack
 * would only show Promise internals).
 */
import {
  BackendUnavailableError,
  DisposedError,
  InvalidArgumentError,
  ModelLoadError,
  NativeError,
  SctDiffError,
} from '../errors.js';
import { validateFrame } from '../tracker/frame.js';
import {
  loadNativeAddon,
  type NativeCrop,
  type NativeEngineHandle,
  type NativeFrame,
  type NativeModelInfo,
  type NativeModelInspection,
} from './loader.js';
import type { CropParams, DecodeRequest, DecodeResult, Engine, Frame } from './types.js';

/** Options of {@link openNativeEngine}. */
export interface NativeEngineOptions {
  /** Path of the `.safetensors` model file. */
  model: string;
  /** Backend: 'cpu' (built into the addon) or 'cuda' (libsctdiff_cuda.so, opened at run time). */
  backend: 'cpu' | 'cuda';
  /** Backend 'cuda': folders searched for libsctdiff_cuda.so after $SCTDIFF_CUDA_LIBRARY. Default: none. */
  cudaSearchDirs?: string[];
  /** Worker threads of the CPU backend; 0 means one per core. Default: 0. */
  threads?: number;
}

const MAX_SEED = (1n << 64n) - 1n;

/**
 * Convert an addon rejection into a typed sct-diff error whose stack is `trace`'s (captured
 * in the caller's synchronous frame before the first await). `backend` names the backend of a
 * BackendUnavailableError (default 'cpu').
 */
export function toTypedError(error: unknown, trace: Error, backend = 'cpu'): Error {
  const coded = error as { code?: unknown; message?: unknown; file?: unknown; reason?: unknown };
  const message = typeof coded?.message === 'string' ? coded.message : String(error);
  let typed: Error;
  if (error instanceof SctDiffError) {
    typed = error;
  } else {
    switch (coded?.code) {
      case 'ERR_MODEL_LOAD':
        typed = new ModelLoadError(String(coded.file), String(coded.reason), { cause: error });
        break;
      case 'ERR_DISPOSED':
        typed = new DisposedError('The engine');
        break;
      case 'ERR_INVALID_ARGUMENT':
        typed = new InvalidArgumentError(message);
        break;
      case 'ERR_BACKEND_UNAVAILABLE':
        typed = new BackendUnavailableError(backend, message);
        break;
      default:
        typed = new NativeError(`The native engine failed: ${message}`, { cause: error });
    }
  }
  const callerFrames = (trace.stack ?? '').split('\n').slice(1).join('\n');
  typed.stack = `${typed.name}: ${typed.message}\n${callerFrames}`;
  return typed;
}

export function requireInteger(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`Expected an integer in [${min}, ${max}] for ${what} but received ${String(value)}`);
  }
  return value;
}

/** Validate a crop as the addon takes it. @throws InvalidArgumentError */
export function toNativeCrop(crop: CropParams, what: string): NativeCrop {
  if (typeof crop !== 'object' || crop === null) {
    throw new InvalidArgumentError(`Expected an object {x0, y0, side, outputSize} for ${what} but received ${String(crop)}`);
  }
  const limit = 2 ** 31 - 1;
  return {
    x0: requireInteger(crop.x0, `${what}.x0`, -limit, limit),
    y0: requireInteger(crop.y0, `${what}.y0`, -limit, limit),
    side: requireInteger(crop.side, `${what}.side`, 1, limit),
    outputSize: requireInteger(crop.outputSize, `${what}.outputSize`, 1, 8192),
  };
}

/** Validate a frame as the addon takes it. @throws InvalidFrameError */
export function toNativeFrame(frame: Frame, what: string): NativeFrame {
  const checked = validateFrame(frame, what);
  return { data: checked.data, width: checked.width, height: checked.height, stride: checked.stride, format: checked.format };
}

/**
 * An {@link Engine} running in the native addon. Calls on one engine run one at a time in
 * call order on the engine's own worker thread; two trackers may share one engine (their
 * calls interleave), but each tracker serializes its own calls.
 */
export class NativeEngine implements Engine {
  readonly backend: string;
  readonly model: NativeModelInfo;
  #handle: NativeEngineHandle;
  #disposal: Promise<void> | undefined;

  private constructor(handle: NativeEngineHandle, model: NativeModelInfo) {
    this.#handle = handle;
    this.backend = handle.backend;
    this.model = Object.freeze({ ...model });
  }

  /**
   * Load `options.model` into a new native engine (the file is read and validated on the
   * engine's worker thread).
   * @throws ModelLoadError when the file is missing, damaged or of another format version;
   *   BackendUnavailableError when the addon is not built, or for backend 'cuda' when the CUDA
   *   library, driver, device or cuBLASLt is missing (the message says which).
   */
  static async open(options: NativeEngineOptions): Promise<NativeEngine> {
    const trace = new Error();
    if (typeof options.model !== 'string' || options.model.length === 0) {
      throw new InvalidArgumentError(`Expected a non-empty model path but received ${String(options.model)}`);
    }
    const threads = requireInteger(options.threads ?? 0, 'threads', 0, 4096);
    const addon = loadNativeAddon();
    const handle = new addon.NativeEngine(options.model, options.backend, threads, options.cudaSearchDirs ?? []);
    try {
      const model = await handle.open();
      return new NativeEngine(handle, model);
    } catch (error) {
      await handle.dispose();
      throw toTypedError(error, trace, options.backend);
    }
  }

  /** Validate and describe a weight file without loading it. See {@link inspectModel}. */
  static inspectModel(file: string): NativeModelInspection {
    return inspectModel(file);
  }

  /** {@inheritDoc Engine.setTemplate} @throws InvalidFrameError, InvalidArgumentError, DisposedError. */
  async setTemplate(index: 0 | 1, frame: Frame, crop: CropParams): Promise<void> {
    const trace = new Error();
    this.#throwIfDisposed(trace);
    if (index !== 0 && index !== 1) {
      throw new InvalidArgumentError(`Expected template index 0 or 1 but received ${String(index)}`);
    }
    const nativeFrame = toNativeFrame(frame, 'template frame');
    const nativeCrop = toNativeCrop(crop, 'template crop');
    try {
      await this.#handle.setTemplate(index, nativeFrame, nativeCrop);
    } catch (error) {
      throw toTypedError(error, trace);
    }
  }

  /** {@inheritDoc Engine.encode} @throws InvalidFrameError, InvalidArgumentError, DisposedError. */
  async encode(frames: Frame[], crops: CropParams[], slots: number[]): Promise<void> {
    const trace = new Error();
    this.#throwIfDisposed(trace);
    const { nativeFrames, nativeCrops, nativeSlots } = checkEncodeArguments(frames, crops, slots, this.model);
    try {
      await this.#handle.encode(nativeFrames, nativeCrops, nativeSlots);
    } catch (error) {
      throw toTypedError(error, trace);
    }
  }

  /** {@inheritDoc Engine.decode} @throws InvalidArgumentError, DisposedError. */
  async decode(request: DecodeRequest): Promise<DecodeResult> {
    const trace = new Error();
    this.#throwIfDisposed(trace);
    const nativeSlots = checkDecodeRequest(request, this.model);
    const { tokens, timesteps, seed } = request;
    try {
      return await this.#handle.decode(nativeSlots, tokens, timesteps, seed);
    } catch (error) {
      throw toTypedError(error, trace);
    }
  }

  /** Join the worker thread and free the model. Idempotent; later calls reject with DisposedError. */
  dispose(): Promise<void> {
    this.#disposal ??= this.#handle.dispose();
    return this.#disposal;
  }

  #throwIfDisposed(trace: Error): void {
    if (this.#disposal !== undefined) throw toTypedError(new DisposedError('The engine'), trace);
  }
}

/** Check `encode` arguments against the model's sizes; returns them as the addon takes them. */
export function checkEncodeArguments(
  frames: Frame[],
  crops: CropParams[],
  slots: number[],
  model: NativeModelInfo,
): { nativeFrames: NativeFrame[]; nativeCrops: NativeCrop[]; nativeSlots: number[] } {
  if (!Array.isArray(frames) || !Array.isArray(crops) || !Array.isArray(slots)) {
    throw new InvalidArgumentError('Expected arrays of frames, crops and slots');
  }
  if (crops.length !== frames.length || slots.length !== frames.length) {
    throw new InvalidArgumentError(
      `Expected as many crops and slots as frames (${frames.length}) but received ${crops.length} crops and ${slots.length} slots`,
    );
  }
  const slotCount = 2 * model.clipLength;
  const nativeFrames = frames.map((frame, i) => toNativeFrame(frame, `frames[${i}]`));
  const nativeCrops = crops.map((crop, i) => toNativeCrop(crop, `crops[${i}]`));
  const nativeSlots = slots.map((slot, i) => requireInteger(slot, `slots[${i}]`, 0, slotCount - 1));
  return { nativeFrames, nativeCrops, nativeSlots };
}

/** Check a decode request against the model's sizes; returns its slots. @throws InvalidArgumentError */
export function checkDecodeRequest(request: DecodeRequest, model: NativeModelInfo): number[] {
  if (typeof request !== 'object' || request === null) {
    throw new InvalidArgumentError(`Expected a decode request {slots, tokens, timesteps, seed} but received ${String(request)}`);
  }
  const { slots, tokens, timesteps, seed } = request;
  if (!Array.isArray(slots) || slots.length === 0 || slots.length > model.clipLength) {
    throw new InvalidArgumentError(
      `Expected 1 to ${model.clipLength} slots but received ${Array.isArray(slots) ? slots.length : String(slots)}`,
    );
  }
  const slotCount = 2 * model.clipLength;
  const nativeSlots = slots.map((slot, i) => requireInteger(slot, `slots[${i}]`, 0, slotCount - 1));
  if (!(tokens instanceof Int32Array) || tokens.length !== 4 * slots.length) {
    throw new InvalidArgumentError(`Expected an Int32Array of ${4 * slots.length} tokens (4 per slot)`);
  }
  if (!(timesteps instanceof Int32Array) || timesteps.length !== slots.length) {
    throw new InvalidArgumentError(`Expected an Int32Array of ${slots.length} timesteps (1 per slot)`);
  }
  const vocab = model.vocab;
  tokens.forEach((token, i) => requireInteger(token, `tokens[${i}]`, 0, vocab - 1));
  timesteps.forEach((t, i) => requireInteger(t, `timesteps[${i}]`, 0, model.diffusionSteps - 1));
  if (typeof seed !== 'bigint' || seed < 0n || seed > MAX_SEED) {
    throw new InvalidArgumentError(`Expected a bigint seed in [0, 2^64) but received ${String(seed)}`);
  }
  return nativeSlots;
}

/** Load a model into the native engine. See {@link NativeEngine.open}. */
export function openNativeEngine(options: NativeEngineOptions): Promise<NativeEngine> {
  return NativeEngine.open(options);
}

/**
 * Validate a weight file exactly as loading it would (format, version, config, every tensor's
 * dtype, shape and extent) and describe it, without building an engine. Synchronous: only the
 * header is read.
 * @throws ModelLoadError naming the file and what is wrong with it; BackendUnavailableError
 *   when the addon is not built.
 */
export function inspectModel(file: string): NativeModelInspection {
  const trace = new Error();
  if (typeof file !== 'string' || file.length === 0) {
    throw new InvalidArgumentError(`Expected a non-empty model path but received ${String(file)}`);
  }
  const addon = loadNativeAddon();
  try {
    return addon.inspectModel(file);
  } catch (error) {
    throw toTypedError(error, trace);
  }
}

/**
 * One weight of a model file as float32 (F16 and BF16 are converted exactly), after the same
 * validation as loading. For tools and tests; engines read weights themselves.
 * @throws ModelLoadError for an invalid file; InvalidArgumentError for an unknown tensor name.
 */
export function readModelTensor(file: string, name: string): Float32Array {
  const trace = new Error();
  const addon = loadNativeAddon();
  try {
    return addon.readTensor(file, name);
  } catch (error) {
    throw toTypedError(error, trace);
  }
}
