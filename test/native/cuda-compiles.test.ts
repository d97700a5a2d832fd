// CI has nvcc and the CUDA runtime but no GPU: this builds the CUDA backend library with CMake
// (one architecture) and checks its exported C ABI, its static runtime, and that the GPU
// programs exit "skipped" (77) without a device. Skipped where nvcc or cmake is not installed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function findNvcc(): string | undefined {
  const candidates = [process.env['CUDACXX'], '/usr/local/cuda/bin/nvcc'];
  const onPath = spawnSync('bash', ['-c', 'command -v nvcc'], { encoding: 'utf8' });
  if (onPath.status === 0) candidates.unshift(onPath.stdout.trim());
  return candidates.find((path): path is string => path !== undefined && path !== '' && existsSync(path));
}

const nvcc = findNvcc();
const hasCmake = spawnSync('bash', ['-c', 'command -v cmake'], { encoding: 'utf8' }).status === 0;
// A cold build takes about 1.5 CPU-minutes (2 cores); a loaded CI machine may need several.
const buildTimeoutMs = 20 * 60_000;

describe('CUDA backend compile check (scripts/check-cuda-compiles.sh)', () => {
  it.skipIf(nvcc === undefined || !hasCmake)(
    'builds libsctdiff_cuda.so, exports only the C ABI, and its GPU programs skip without a device',
    () => {
      const result = spawnSync('bash', ['scripts/check-cuda-compiles.sh'], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, CUDACXX: nvcc },
        timeout: buildTimeoutMs,
      });
      const output = `${result.stdout}${result.stderr}`;
      expect(result.status, output).toBe(0);
      expect(output).toMatch(/cuda compile check: ok/);
      if (!existsSync('/dev/nvidia0')) {
        expect(output).toMatch(/abi_check: 0 failed/);
        expect(output).toMatch(/ok {3}create with a missing file is a model error naming it/);
        expect(output).toMatch(/sctdiff_cuda_consistency without a GPU: skipped: no CUDA device/);
        expect(output).toMatch(/sctdiff_cuda_bench without a GPU: skipped: No usable CUDA device/);
      }
    },
    buildTimeoutMs,
  );
});
