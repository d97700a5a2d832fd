/**
 * Creates the compute engine a Tracker runs on: picks the backend (`device`), checks the
 * model file exists, and loads it into the native addon.
 */
import { stat } from 'node:fs/promises';
import { BackendUnavailableError, InvalidArgumentError, ModelLoadError } from '../errors.js';
import { cudaLibrarySearchDirectories, probeCudaBackend } from './backends.js';
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

/** What can make the CUDA backend usable, in the order the failures usually happen. */
export const CUDA_POSSIBLE_FIXES: readonly string[] = [
  "use device 'cpu' (or 'auto' to fall back to the CPU automatically)",
  'install the NVIDIA driver (CUDA 13 needs driver 580 or newer; `nvidia-smi` must list the GPU)',
  'CUDA library missing: run `npm run build:prebuilds` on a machine with nvcc and cmake, check that prebuilds/linux-x64/libsctdiff_cuda.so sits next to the addon, or set SCTDIFF_CUDA_LIBRARY to a built libsctdiff_cuda.so',
  'cuBLASLt (libcublasLt.so.13) not found: install the CUDA 13 toolkit (or its cuBLAS package) or add its lib folder to LD_LIBRARY_PATH',
];

/** The typed error for `device: 'cuda'` on a host where the backend cannot run. */
export function cudaUnavailableError(reason: string): BackendUnavailableError {
  const fixes = CUDA_POSSIBLE_FIXES.map((fix, i) => `(${i + 1}) ${fix}`).join('; ');
  return new BackendUnavailableError(
    'cuda',
    `The CUDA backend cannot be used: ${reason.replace(/^The CUDA backend cannot be used: /, '')}. ` +
      `Possible fixes: ${fixes}. See docs/troubleshooting.md.`,
  );
}

function withCallerStack<E extends Error>(error: E, trace: Error): E {
  error.stack = `${error.name}: ${error.message}\n${(trace.stack ?? '').split('\n').slice(1).join('\n')}`;
  return error;
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
 *   cannot run here (device 'cuda' on a host without a usable GPU, driver, CUDA library or
 *   cuBLASLt — the message gives the probe's reason and possible fixes — or an addon that was
 *   not built). Device 'auto' tries CUDA first and logs one line when it falls back to the CPU.
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

  return openOnDevice(device, options.logger, trace, (backend) =>
    backend === 'cuda'
      ? NativeEngine.open({ model: options.model, backend: 'cuda', threads, cudaSearchDirs: cudaLibrarySearchDirectories() })
      : NativeEngine.open({ model: options.model, backend: 'cpu', threads }),
  );
}

/**
 * The device rule shared by lone engines and engine groups: 'cpu' opens on the CPU; 'cuda' opens
 * on CUDA or throws {@link cudaUnavailableError} with the probe's reason; 'auto' tries CUDA and,
 * when the host cannot run it, logs one line saying why and opens on the CPU. A failure that is
 * not the host's (a bad model file) is thrown as is, never hidden by a fallback.
 * @param logger receives the fallback line; undefined: `console.warn`; null: silent.
 */
export async function openOnDevice<T>(
  device: DeviceOption,
  logger: ((line: string) => void) | null | undefined,
  trace: Error,
  open: (backend: 'cpu' | 'cuda') => Promise<T>,
): Promise<T> {
  const log = logger === undefined ? console.warn : logger;
  const fallBackToCpu = (reason: string): void => {
    log?.(`sct-diff: device 'auto' is using the CPU backend because ${reason}`);
  };
  if (device === 'cuda' || device === 'auto') {
    const cuda = probeCudaBackend();
    if (cuda.available) {
      try {
        return await open('cuda');
      } catch (error) {
        // Only a host problem found at engine creation falls back; a bad model file does not.
        if (!(error instanceof BackendUnavailableError)) throw error;
        if (device === 'cuda') throw withCallerStack(cudaUnavailableError(error.message), trace);
        fallBackToCpu(error.message);
      }
    } else if (device === 'cuda') {
      throw withCallerStack(cudaUnavailableError(cuda.reason), trace);
    } else {
      fallBackToCpu(cuda.reason);
    }
  }
  return open('cpu');
}
