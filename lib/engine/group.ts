/**
 * One engine serving many trackers: an {@link EngineGroup} loads a model once (one backend, one
 * weight set, one worker thread) and hands out streams, each an {@link Engine} with its own
 * templates and feature slots. Calls of different streams that are queued together run as one
 * batch: when the group's worker becomes free it takes every waiting encode (or every waiting
 * decode) of distinct streams, up to 16, and runs them through the network at once. A call on
 * an idle group runs at once — a lone stream never waits for company.
 *
 * ```ts
 * await using group = await EngineGroup.create({ model, device: 'cpu' });
 * const trackers = await Promise.all(videos.map(() => Tracker.create({ group })));
 * ```
 */
import { stat } from 'node:fs/promises';
import { DisposedError, InvalidArgumentError, ModelLoadError } from '../errors.js';
import { describeReceived } from '../geometry/describe.js';
import { cudaLibrarySearchDirectories } from './backends.js';
import { type DeviceOption, openOnDevice } from './create.js';
import { type NativeBatchRecord, type NativeEngineGroupHandle, type NativeModelInfo, loadNativeAddon } from './loader.js';
import { checkDecodeRequest, checkEncodeArguments, toNativeCrop, toNativeFrame, toTypedError } from './native.js';
import type { CropParams, DecodeRequest, DecodeResult, Engine, Frame } from './types.js';

/** Options of {@link EngineGroup.create}. */
export interface EngineGroupOptions {
  /** Path of a `.safetensors` model file. */
  model: string;
  /**
   * Backend. Default: 'auto' (CUDA when available, else CPU), as for a lone engine: 'cuda'
   * throws BackendUnavailableError with the reason and possible fixes where CUDA cannot run;
   * 'auto' then logs one line and uses the CPU.
   */
  device?: DeviceOption;
  /** CPU threads of the group's one backend (CPU only); 0 means one per core. Default: 0. */
  threads?: number;
  /**
   * Receives the one line `device: 'auto'` logs when it falls back to the CPU.
   * Default: `console.warn`. Pass `null` to stay silent.
   */
  logger?: ((line: string) => void) | null;
}

/** A batch the group's worker ran (see {@link EngineGroup._debugBatches}). */
export type EngineGroupBatch = NativeBatchRecord;

function invalid(expected: string, name: string, value: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`Expected ${expected} ${name} but received ${describeReceived(value)}`);
}

/** Rejections of a group's calls: a disposed group says so in its own words. */
function groupError(error: unknown, trace: Error): Error {
  const code = (error as { code?: unknown } | null)?.code;
  return toTypedError(code === 'ERR_DISPOSED' ? new DisposedError('The engine group') : error, trace);
}

/** A model loaded once, serving many streams (trackers) with batched calls. */
export class EngineGroup implements AsyncDisposable {
  /** Name of the backend the group runs on: "cpu" or "cuda". */
  readonly backend: string;
  /** Sizes of the loaded model. */
  readonly model: NativeModelInfo;
  readonly #handle: NativeEngineGroupHandle;
  #nextStream = 0;
  #disposal: Promise<void> | undefined;

  private constructor(handle: NativeEngineGroupHandle, model: NativeModelInfo) {
    this.#handle = handle;
    this.backend = handle.backend;
    this.model = Object.freeze({ ...model });
  }

  /**
   * Load `options.model` into a group.
   * @throws InvalidArgumentError for bad options; ModelLoadError when the model file is missing
   *   or invalid; BackendUnavailableError for device 'cuda' on a host where CUDA cannot run (the
   *   probe's reason and possible fixes), or when the addon is not built.
   */
  static async create(options: EngineGroupOptions): Promise<EngineGroup> {
    const trace = new Error();
    if (typeof options !== 'object' || options === null) throw invalid('an options object {model, device, threads} as', 'options', options);
    const { model } = options;
    if (typeof model !== 'string' || model.length === 0) throw invalid('a non-empty path as', 'model', model);
    const device = options.device ?? 'auto';
    if (device !== 'auto' && device !== 'cpu' && device !== 'cuda') throw invalid("'auto', 'cpu' or 'cuda' as", 'device', device);
    const threads = options.threads ?? 0;
    if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 0 || threads > 4096) {
      throw invalid('an integer in [0, 4096] as', 'threads', threads);
    }
    try {
      const info = await stat(model);
      if (info.isDirectory()) throw new ModelLoadError(model, 'The path is a directory, not a weight file. Pass the .safetensors file inside it.');
    } catch (error) {
      if (error instanceof ModelLoadError) throw error;
      throw new ModelLoadError(model, 'The file does not exist or cannot be read.', { cause: error });
    }
    if (options.logger !== undefined && options.logger !== null && typeof options.logger !== 'function') {
      throw invalid('a function or null as', 'logger', options.logger);
    }
    const addon = loadNativeAddon();
    return openOnDevice(device, options.logger, trace, async (backend) => {
      const handle =
        backend === 'cuda'
          ? new addon.NativeEngineGroup(model, threads, 'cuda', cudaLibrarySearchDirectories())
          : new addon.NativeEngineGroup(model, threads, 'cpu');
      try {
        return new EngineGroup(handle, await handle.open());
      } catch (error) {
        await handle.dispose();
        throw groupError(error, trace);
      }
    });
  }

  /** True once `dispose()` was called. */
  get disposed(): boolean {
    return this.#disposal !== undefined;
  }

  /**
   * A new stream: an {@link Engine} with its own templates and feature slots on this group's
   * model. Pass it as `Tracker.create({ engine })` (the tracker does not dispose it), or let the
   * tracker make its own with `Tracker.create({ group })`. Disposing the stream frees its state;
   * disposing the group ends every stream.
   * @throws DisposedError when the group was disposed.
   */
  stream(): Engine {
    if (this.#disposal !== undefined) throw new DisposedError('The engine group');
    return new GroupStream(this, this.#handle, this.#nextStream++);
  }

  /**
   * Wait for the calls already made, then free the model and every stream. Idempotent; later
   * calls of the group and of its streams reject with DisposedError.
   */
  dispose(): Promise<void> {
    this.#disposal ??= this.#handle.dispose();
    return this.#disposal;
  }

  /** Same as {@link EngineGroup.dispose}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  /** Test hook: the batches the worker ran since the last call, oldest first, with their sizes. */
  _debugBatches(): EngineGroupBatch[] {
    return this.#handle._debugBatches();
  }

  /** Test hook: hold the worker so that calls pile up, until {@link EngineGroup._debugResume}. */
  _debugSuspend(): void {
    this.#handle._debugSuspend();
  }

  /** Test hook: let the worker run again. */
  _debugResume(): void {
    this.#handle._debugResume();
  }
}

/** One stream of an {@link EngineGroup}: an {@link Engine} whose calls the group batches. */
class GroupStream implements Engine {
  readonly backend: string;
  readonly model: NativeModelInfo;
  readonly #group: EngineGroup;
  readonly #handle: NativeEngineGroupHandle;
  readonly #id: number;
  #disposal: Promise<void> | undefined;

  constructor(group: EngineGroup, handle: NativeEngineGroupHandle, id: number) {
    this.#group = group;
    this.#handle = handle;
    this.#id = id;
    this.backend = group.backend;
    this.model = group.model;
  }

  async setTemplate(index: 0 | 1, frame: Frame, crop: CropParams): Promise<void> {
    const trace = new Error();
    this.#throwIfDisposed(trace);
    if (index !== 0 && index !== 1) throw new InvalidArgumentError(`Expected template index 0 or 1 but received ${String(index)}`);
    const nativeFrame = toNativeFrame(frame, 'template frame');
    const nativeCrop = toNativeCrop(crop, 'template crop');
    try {
      await this.#handle.setTemplate(this.#id, index, nativeFrame, nativeCrop);
    } catch (error) {
      throw groupError(error, trace);
    }
  }

  async encode(frames: Frame[], crops: CropParams[], slots: number[]): Promise<void> {
    const trace = new Error();
    this.#throwIfDisposed(trace);
    const { nativeFrames, nativeCrops, nativeSlots } = checkEncodeArguments(frames, crops, slots, this.model);
    try {
      await this.#handle.encode(this.#id, nativeFrames, nativeCrops, nativeSlots);
    } catch (error) {
      throw groupError(error, trace);
    }
  }

  async decode(request: DecodeRequest): Promise<DecodeResult> {
    const trace = new Error();
    this.#throwIfDisposed(trace);
    const nativeSlots = checkDecodeRequest(request, this.model);
    try {
      return await this.#handle.decode(this.#id, nativeSlots, request.tokens, request.timesteps, request.seed);
    } catch (error) {
      throw groupError(error, trace);
    }
  }

  /** Test hook: this stream's features in `slot`. */
  async _debugFeatures(slot: number): Promise<Float32Array> {
    const trace = new Error();
    this.#throwIfDisposed(trace);
    try {
      return await this.#handle._debugFeatures(this.#id, slot);
    } catch (error) {
      throw groupError(error, trace);
    }
  }

  /** Free this stream's state in the group (the group stays). Idempotent. */
  dispose(): Promise<void> {
    this.#disposal ??= this.#group.disposed ? Promise.resolve() : this.#handle.releaseStream(this.#id).catch(() => undefined);
    return this.#disposal;
  }

  #throwIfDisposed(trace: Error): void {
    if (this.#disposal !== undefined) throw toTypedError(new DisposedError('The engine group stream'), trace);
    if (this.#group.disposed) throw toTypedError(new DisposedError('The engine group'), trace);
  }
}
