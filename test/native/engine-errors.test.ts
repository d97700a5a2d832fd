/**
 * createEngine's backend choice and the typed errors of the native engine surface: CUDA
 * requests, the 'auto' fallback line, missing models, bad options, and how addon error codes
 * become sct-diff error classes carrying the caller's stack.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { availableBackends, cudaBackendStatus } from '../../lib/engine/backends.js';
import { createEngine } from '../../lib/engine/create.js';
import { addonUnavailableError, loadNativeAddon } from '../../lib/engine/loader.js';
import { toTypedError } from '../../lib/engine/native.js';
import {
  BackendUnavailableError,
  DisposedError,
  InvalidArgumentError,
  ModelLoadError,
  NativeError,
} from '../../lib/errors.js';
import { nanoParts, serialize, weightsFolder } from '../fixtures/weights/nano-weights.js';

const folder = weightsFolder();
afterAll(() => folder.cleanup());
// These cases describe a host without a usable GPU (CI); a GPU machine runs test/native/cuda-loader.test.ts.
const cudaAvailable = cudaBackendStatus().available;
const damagedModel = folder.write('damaged.safetensors', serialize(nanoParts()).subarray(0, 300));

describe('createEngine', () => {
  it.skipIf(cudaAvailable)("throws BackendUnavailableError with fixes for device 'cuda'", async () => {
    const failure = await createEngine({ model: damagedModel, device: 'cuda' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BackendUnavailableError);
    expect((failure as BackendUnavailableError).backend).toBe('cuda');
    expect((failure as Error).message).toMatch(/CUDA backend cannot be used: (the CUDA library was not found|No usable CUDA device)/);
    expect((failure as Error).message).toMatch(/use device 'cpu'/);
    expect((failure as Error).stack).toContain('engine-errors.test.ts');
  });

  it.skipIf(cudaAvailable)("logs one line when 'auto' falls back to the CPU, then loads there", async () => {
    const lines: string[] = [];
    const failure = await createEngine({ model: damagedModel, device: 'auto', logger: (line) => lines.push(line) }).catch(
      (error: unknown) => error,
    );
    expect(lines).toEqual([
      expect.stringMatching(/^sct-diff: device 'auto' is using the CPU backend because (the CUDA library was not found|No usable CUDA device)/),
    ]);
    // The CPU attempt ran: the damaged file is reported by the native loader.
    expect(failure).toBeInstanceOf(ModelLoadError);
    expect((failure as Error).message).toMatch(/truncated/);
  });

  it("stays silent on fallback with logger: null, and device 'cpu' never logs", async () => {
    await expect(createEngine({ model: damagedModel, device: 'auto', logger: null })).rejects.toThrow(ModelLoadError);
    const lines: string[] = [];
    await expect(createEngine({ model: damagedModel, device: 'cpu', logger: (line) => lines.push(line) })).rejects.toThrow(
      ModelLoadError,
    );
    expect(lines).toEqual([]);
  });

  it('names a model path that does not exist, before choosing a backend', async () => {
    const model = path.join(folder.dir, 'nope', 'model.safetensors');
    for (const device of ['auto', 'cpu', 'cuda'] as const) {
      const failure = await createEngine({ model, device, logger: null }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ModelLoadError);
      expect((failure as ModelLoadError).file).toBe(model);
      expect((failure as Error).message).toBe(
        `Could not load model "${model}": The file does not exist. Check the path (relative paths are resolved from the current working directory).`,
      );
    }
  });

  it('rejects a directory as model', async () => {
    await expect(createEngine({ model: folder.dir, device: 'cpu' })).rejects.toThrow(/is a directory, not a weight file/);
  });

  it.each([
    [{ model: '' }, /Expected a model path string/],
    [{ model: damagedModel, device: 'gpu' }, /Expected device 'auto', 'cpu' or 'cuda' but received gpu/],
    [{ model: damagedModel, threads: -1 }, /Expected a non-negative integer for threads but received -1/],
    [{ model: damagedModel, threads: 1.5 }, /Expected a non-negative integer for threads but received 1\.5/],
  ])('rejects bad options with InvalidArgumentError (%#)', async (options, pattern) => {
    const failure = await createEngine(options as Parameters<typeof createEngine>[0]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InvalidArgumentError);
    expect((failure as Error).message).toMatch(pattern);
  });
});

describe('availableBackends', () => {
  it.skipIf(cudaAvailable)('lists CUDA first, unavailable with a reason, and the CPU as the addon reports it', () => {
    const [cuda, cpu] = availableBackends();
    expect(cuda).toMatchObject({ name: 'cuda', available: false });
    // No GPU here: either no library was found or it found no usable device (test/native/cuda-loader.test.ts covers both).
    expect(cuda?.reason).toMatch(/the CUDA library was not found at .*libsctdiff_cuda\.so|No usable CUDA device/);
    expect(cpu?.name).toBe('cpu');
    expect(loadNativeAddon().build.cpu).toBe(true);
    expect(cpu?.available).toBe(true);
    expect(cpu?.reason.length).toBeGreaterThan(10);
  });
});

describe('native error translation', () => {
  function nativeError(code: string, message: string, extra: Record<string, string> = {}): Error {
    return Object.assign(new Error(message), { code }, extra);
  }

  it.each([
    ['ERR_MODEL_LOAD', ModelLoadError],
    ['ERR_DISPOSED', DisposedError],
    ['ERR_INVALID_ARGUMENT', InvalidArgumentError],
    ['ERR_BACKEND_UNAVAILABLE', BackendUnavailableError],
    ['ERR_NATIVE', NativeError],
    [undefined, NativeError],
  ])('maps code %s to its error class with the caller stack', (code, kind) => {
    const trace = new Error('trace');
    const error = code === undefined ? new Error('boom') : nativeError(code, 'boom', { file: '/m.safetensors', reason: 'bad' });
    const typed = toTypedError(error, trace);
    expect(typed).toBeInstanceOf(kind);
    expect(typed.stack?.split('\n')[0]).toBe(`${typed.name}: ${typed.message}`);
    expect(typed.stack).toContain('engine-errors.test.ts');
    if (typed instanceof ModelLoadError) {
      expect(typed.file).toBe('/m.safetensors');
      expect(typed.message).toBe('Could not load model "/m.safetensors": bad');
    }
    if (typed instanceof NativeError) expect(typed.message).toBe('The native engine failed: boom');
  });

  it('explains a missing addon with what to try', () => {
    const error = addonUnavailableError(new Error("Cannot find module 'sct_diff.node'\nRequire stack: ..."));
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toMatch(/^The sct-diff native addon could not be loaded \(Cannot find module 'sct_diff\.node'\)\./);
    expect(error.message).toMatch(/npm rebuild sct-diff/);
    expect(error.message).toMatch(/libeigen3-dev nlohmann-json3-dev/);
  });
});
