/**
 * Opening the CUDA backend library at Tracker.create time (native/binding/cuda_library.cc):
 * every way it can be unusable — not found, not a shared object, missing symbols, another ABI
 * version, no device — is a clear reason from probeCuda and a BackendUnavailableError (or the
 * CPU fallback for 'auto'), never a crash. The real library comes from
 * scripts/check-cuda-compiles.sh; without nvcc those cases are skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends, cudaLibrarySearchDirectories, probeCudaBackend } from '../../lib/engine/backends.js';
import { createEngine } from '../../lib/engine/create.js';
import { EngineGroup } from '../../lib/engine/group.js';
import { loadedAddonFile } from '../../lib/engine/loader.js';
import { NativeEngine } from '../../lib/engine/native.js';
import { BackendUnavailableError } from '../../lib/errors.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const model = path.join(root, 'test/fixtures/goldens/weights.safetensors');
const builtLibrary = path.join(root, 'node_modules/.cache/sctdiff-cuda-check/libsctdiff_cuda.so');
const hasGpu = existsSync('/dev/nvidia0');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'sctdiff-cuda-loader-'));
const previousOverride = process.env['SCTDIFF_CUDA_LIBRARY'];

function useLibrary(file: string | undefined): void {
  if (file === undefined) delete process.env['SCTDIFF_CUDA_LIBRARY'];
  else process.env['SCTDIFF_CUDA_LIBRARY'] = file;
}

function commandExists(name: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${name}`]).status === 0;
}

// The real library: built here when missing and nvcc is installed (about 1.5 CPU-minutes).
let libraryReady = existsSync(builtLibrary);
beforeAll(() => {
  if (!libraryReady && (commandExists('nvcc') || existsSync('/usr/local/cuda/bin/nvcc')) && commandExists('cmake')) {
    spawnSync('bash', ['scripts/check-cuda-compiles.sh'], { cwd: root, stdio: 'ignore', timeout: 20 * 60_000 });
    libraryReady = existsSync(builtLibrary);
  }
}, 20 * 60_000);

afterEach(() => useLibrary(previousOverride));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function createFailure(device: 'cuda' | 'auto', lines: string[] = []): Promise<unknown> {
  return createEngine({ model, device, logger: (line) => lines.push(line) }).catch((error: unknown) => error);
}

describe('probeCuda without a usable library', () => {
  it('reports a missing SCTDIFF_CUDA_LIBRARY file as "not found" with that path, and createEngine cuda throws it', async () => {
    const missing = path.join(scratch, 'nope', 'libsctdiff_cuda.so');
    useLibrary(missing);
    const probe = probeCudaBackend();
    expect(probe).toMatchObject({ available: false, searched: [missing] });
    expect(probe.library).toBeUndefined();
    expect(probe.reason).toBe(
      `the CUDA library was not found at ${missing} (SCTDIFF_CUDA_LIBRARY). Possible fixes: build it with ` +
        '`npm run build:prebuilds` on a machine with nvcc and cmake (it lands in prebuilds/linux-x64/libsctdiff_cuda.so ' +
        "next to the addon), point SCTDIFF_CUDA_LIBRARY at a built libsctdiff_cuda.so, or use device 'cpu'",
    );
    expect(availableBackends()[0]).toMatchObject({ name: 'cuda', available: false, reason: probe.reason });
    const failure = await createFailure('cuda');
    expect(failure).toBeInstanceOf(BackendUnavailableError);
    expect((failure as BackendUnavailableError).backend).toBe('cuda');
    expect((failure as Error).message).toContain(`the CUDA library was not found at ${missing}`);
    expect((failure as Error).message).toMatch(/Possible fixes: \(1\) use device 'cpu'.*\(2\) install the NVIDIA driver.*\(3\) CUDA library missing.*\(4\) cuBLASLt \(libcublasLt\.so\.13\) not found/);
  });

  it('searches the folder of the loaded addon, then build/cuda, when SCTDIFF_CUDA_LIBRARY is unset', () => {
    useLibrary(undefined);
    const dirs = cudaLibrarySearchDirectories();
    expect(dirs).toEqual([path.dirname(loadedAddonFile()), path.join(root, 'build', 'cuda')]);
    const probe = probeCudaBackend();
    expect(probe.searched).toEqual(dirs.map((dir) => path.join(dir, 'libsctdiff_cuda.so')));
  });

  it('explains a text file that is not a shared object (dlopen error), without crashing', async () => {
    const text = path.join(scratch, 'libsctdiff_cuda.so');
    writeFileSync(text, 'not an ELF file\n');
    useLibrary(text);
    const probe = probeCudaBackend();
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(new RegExp(`^the CUDA library ${text.replace(/[.]/g, '\\.')} could not be loaded \\(.*(invalid ELF header|file too short)`));
    const lines: string[] = [];
    const failure = await createFailure('cuda', lines);
    expect(failure).toBeInstanceOf(BackendUnavailableError);
    expect((failure as Error).message).toContain('could not be loaded');
    expect(lines).toEqual([]);
  });

  it('names the missing symbols of a shared object that is not the CUDA library (the addon itself)', () => {
    useLibrary(loadedAddonFile());
    const probe = probeCudaBackend();
    expect(probe.available).toBe(false);
    expect(probe.reason).toContain(
      'does not export sctdiff_cuda_abi_version, sctdiff_cuda_probe, sctdiff_cuda_create_engine, sctdiff_cuda_destroy_engine, sctdiff_cuda_engine_stats, ' +
        'sctdiff_cuda_create_batch_engine, sctdiff_cuda_destroy_batch_engine, sctdiff_cuda_batch_engine_stats',
    );
  });

  // A library of ABI 1 (before the batch engine) also lacks this version's functions: the
  // version mismatch, whose fix is to rebuild, is what the message says.
  it.skipIf(!commandExists('cc'))('refuses a library of another ABI version and says to rebuild', () => {
    const source = path.join(scratch, 'other_abi.c');
    const library = path.join(scratch, 'libother_abi.so');
    writeFileSync(
      source,
      [
        '#include <stddef.h>',
        'int sctdiff_cuda_abi_version(void) { return 999; }',
        'int sctdiff_cuda_probe(int d, char* i, size_t s) { (void)d; (void)i; (void)s; return 0; }',
        'int sctdiff_cuda_create_engine(const char* w, int d, void** e, char* m, size_t s) { (void)w; (void)d; (void)m; (void)s; *e = 0; return 2; }',
        'void sctdiff_cuda_destroy_engine(void* e) { (void)e; }',
        'int sctdiff_cuda_engine_stats(void* e, char* i, size_t s) { (void)e; (void)i; (void)s; return 4; }',
      ].join('\n'),
    );
    const compiled = spawnSync('cc', ['-shared', '-fPIC', '-o', library, source], { encoding: 'utf8' });
    expect(compiled.status, compiled.stderr).toBe(0);
    useLibrary(library);
    const probe = probeCudaBackend();
    expect(probe).toMatchObject({ available: false, searched: [library] });
    expect(probe.reason).toMatch(/has ABI version 999 but this addon needs 2\. Possible fixes: rebuild both from the same sct-diff sources/);
  });

  it("rejects NativeEngine backend 'cuda' opened directly with the loader's reason as BackendUnavailableError", async () => {
    const missing = path.join(scratch, 'absent.so');
    useLibrary(missing);
    const failure = await NativeEngine.open({ model, backend: 'cuda' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BackendUnavailableError);
    expect((failure as BackendUnavailableError).backend).toBe('cuda');
    expect((failure as Error).message).toMatch(new RegExp(`^The CUDA backend cannot be used: the CUDA library was not found at ${missing.replace(/[.]/g, '\\.')}`));
  });
});

describe('probeCuda with the library built by scripts/check-cuda-compiles.sh', () => {
  it.skipIf(hasGpu)('loads it, the ABI matches, and the probe says why there is no device', async (context) => {
    if (!libraryReady) context.skip('no nvcc or cmake: the CUDA library could not be built');
    useLibrary(builtLibrary);
    const probe = probeCudaBackend();
    expect(probe.available).toBe(false);
    expect(probe.library).toBe(builtLibrary);
    expect(probe.device).toBeUndefined();
    // The library's own text: the CUDA runtime's error and possible fixes.
    expect(probe.reason).toMatch(/^No usable CUDA device \(cudaError\w+ .*Possible fixes: install an NVIDIA driver/);
    expect(probe.reason).toContain(`(library ${builtLibrary})`);

    const cudaFailure = await createFailure('cuda');
    expect(cudaFailure).toBeInstanceOf(BackendUnavailableError);
    expect((cudaFailure as Error).message).toContain(probe.reason);

    const direct = await NativeEngine.open({ model, backend: 'cuda' }).catch((error: unknown) => error);
    expect(direct).toBeInstanceOf(BackendUnavailableError);
    expect((direct as Error).message).toMatch(/^The CUDA backend cannot be used: No usable CUDA device/);

    const lines: string[] = [];
    const engine = await createEngine({ model, device: 'auto', logger: (line) => lines.push(line) });
    try {
      expect(engine.backend).toBe('cpu');
      expect(lines).toEqual([`sct-diff: device 'auto' is using the CPU backend because ${probe.reason}`]);
    } finally {
      await engine.dispose();
    }
  });

  it.skipIf(hasGpu)('an engine group follows the same rule: cuda throws the reason with fixes, auto logs it and runs on the CPU', async (context) => {
    if (!libraryReady) context.skip('no nvcc or cmake: the CUDA library could not be built');
    useLibrary(builtLibrary);
    const probe = probeCudaBackend();
    const failure = await EngineGroup.create({ model, device: 'cuda' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BackendUnavailableError);
    expect((failure as BackendUnavailableError).backend).toBe('cuda');
    expect((failure as Error).message).toContain(probe.reason);
    expect((failure as Error).message).toMatch(/Possible fixes: \(1\) use device 'cpu'/);

    const lines: string[] = [];
    await using group = await EngineGroup.create({ model, device: 'auto', threads: 1, logger: (line) => lines.push(line) });
    expect(group.backend).toBe('cpu');
    expect(group.stream().backend).toBe('cpu');
    expect(lines).toEqual([`sct-diff: device 'auto' is using the CPU backend because ${probe.reason}`]);
  });

  it.skipIf(hasGpu)("the addon's group asked for 'cuda' directly rejects with the library's reason, never crashes", async (context) => {
    if (!libraryReady) context.skip('no nvcc or cmake: the CUDA library could not be built');
    useLibrary(builtLibrary);
    const addon = (await import('../../lib/engine/loader.js')).loadNativeAddon();
    const handle = new addon.NativeEngineGroup(model, 1, 'cuda', cudaLibrarySearchDirectories());
    try {
      expect(handle.backend).toBe('cuda');
      await expect(handle.open()).rejects.toMatchObject({
        code: 'ERR_BACKEND_UNAVAILABLE',
        message: expect.stringMatching(/^The CUDA backend cannot be used: No usable CUDA device/),
      });
    } finally {
      await handle.dispose();
    }
    expect(() => new addon.NativeEngineGroup(model, 1, 'tpu')).toThrow("Expected backend 'cpu' or 'cuda' but received 'tpu'");
  });

  it.skipIf(!hasGpu)('on a GPU host: available, describes the device, and device cuda runs on it', async (context) => {
    if (!libraryReady) context.skip('no nvcc or cmake: the CUDA library could not be built');
    useLibrary(builtLibrary);
    const probe = probeCudaBackend();
    expect(probe.available, probe.reason).toBe(true);
    expect(probe.device?.name).toMatch(/\w/);
    expect(probe.device?.computeCapability).toMatch(/^\d+\.\d+$/);
    const engine = await createEngine({ model, device: 'cuda' });
    try {
      expect(engine.backend).toBe('cuda');
    } finally {
      await engine.dispose();
    }
  });

  it.skipIf(!hasGpu)('on a GPU host: an engine group on device cuda runs its streams on the GPU', async (context) => {
    if (!libraryReady) context.skip('no nvcc or cmake: the CUDA library could not be built');
    useLibrary(builtLibrary);
    await using group = await EngineGroup.create({ model, device: 'cuda' });
    expect(group.backend).toBe('cuda');
    expect(group.stream().backend).toBe('cuda');
  });
});
