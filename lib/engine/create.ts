/**
 * Creates the compute engine a Tracker runs on: picks the backend (`device`), checks the
 * model file exists, and loads it into the native addon.
 */
import { stat } from 'node:fs/promises';
import { BackendUnavailableError, InvalidArgumentError, ModelLoadError } from '../errors.js';
import { cudaBackendStatus } from './backends.js';
import { NativeEngine } from './native.js';
import type { Engine } from './types.js';

/** Which compute backend to use: CUDA, CPU, or the first of those that works. */
export type DeviceOption = 'auto' | 'cpu' | 'cuda';

/** Options for {@link createEngine}. */
export interface CreateEngineOptions {
  /** Path of a `.safetensors` model file. */
  model: string;
  /** Backend choice. Default: 'auto' (CUDA when available, else CPU). */
  device?: DeviceOption;
  /** CPU threads; 0 means one per core. Default: 0. */
  threads?: number;
  /**
   * Receives the one line `device: 'auto'` logs when it falls back to the CPU.
   * Default: `console.warn`. Pass `null` to stay silent.
   */
  logger?: ((line: string) => void) | null;
}

const DEVICES: readonly DeviceOption[] = ['auto', 'cpu', 'cuda'];

function cudaUnavailable(reason: string): BackendUnavailableError {
  return new BackendUnavailableError(
    'cuda',
    `The CUDA backend cannot be used: ${reason}. ` +
      "To fix: use device 'cpu' (or 'auto' to fall back automatically); on a machine with an NVIDIA GPU, " +
      'check that the driver is loaded (`nvidia-smi`) and that this sct-diff build includes the CUDA backend. ' +
      'See docs/troubleshooting.md.',
  );
}

async function requireModelFile(model: string): Promise<void> {
  try {
    const info = await stat(model);
    if (info.isDirectory()) {
      throw new ModelLoadError(model, 'The path is a directory, not a weight file. Pass the .safetensors file inside it.');
    }
  } catch (error) {
    if (error instanceof ModelLoadError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'The file does not exist. Check the path (relative paths are resolved from the current working directory).'
        : `The file could not be read (${code ?? String(error)}).`;
    throw new ModelLoadError(model, reason, { cause: error });
  }
}

/**
 * Load a model into a native engine.
 * @throws InvalidArgumentError for bad options; ModelLoadError when the model file is missing,
 *   damaged or of another format version; BackendUnavailableError when the requested backend
 *   cannot run here (device 'cuda' today, or an addon that was not built).
 */
export async function createEngine(options: CreateEngineOptions): Promise<Engine> {
  const trace = new Error();
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`Expected an options object {model, device, threads} but received ${String(options)}`);
  }
  const device = options.device ?? 'auto';
  if (!DEVICES.includes(device)) {
    throw new InvalidArgumentError(`Expected device 'auto', 'cpu' or 'cuda' but received ${String(device)}`);
  }
  const threads = options.threads ?? 0;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 0) {
    throw new InvalidArgumentError(`Expected a non-negative integer for threads but received ${String(threads)}`);
  }
  if (typeof options.model !== 'string' || options.model.length === 0) {
    throw new InvalidArgumentError(`Expected a model path string but received ${String(options.model)}`);
  }
  await requireModelFile(options.model);

  if (device === 'cuda' || device === 'auto') {
    const cuda = cudaBackendStatus();
    if (!cuda.available) {
      if (device === 'cuda') {
        const error = cudaUnavailable(cuda.reason);
        error.stack = `${error.name}: ${error.message}\n${(trace.stack ?? '').split('\n').slice(1).join('\n')}`;
        throw error;
      }
      const logger = options.logger === undefined ? console.warn : options.logger;
      logger?.(`sct-diff: device 'auto' is using the CPU backend because ${cuda.reason}`);
    }
  }
  return NativeEngine.open({ model: options.model, backend: 'cpu', threads });
}
