import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseNvidiaSmiGpus, queryGpus } from '../../lib/cli/gpu-info.js';

const saved = process.env.SCT_DIFF_NVIDIA_SMI;
afterEach(() => {
  if (saved === undefined) delete process.env.SCT_DIFF_NVIDIA_SMI;
  else process.env.SCT_DIFF_NVIDIA_SMI = saved;
});

describe('GPU info from nvidia-smi', () => {
  it('parses one line per GPU and skips malformed lines', () => {
    expect(parseNvidiaSmiGpus('NVIDIA H100 80GB HBM3, 9.0, 550.54.15\nNVIDIA A10, 8.6, 535.1\n\ngarbage\n')).toEqual([
      { name: 'NVIDIA H100 80GB HBM3', computeCapability: '9.0', driverVersion: '550.54.15' },
      { name: 'NVIDIA A10', computeCapability: '8.6', driverVersion: '535.1' },
    ]);
  });

  it('runs the program with the query arguments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sct-smi-'));
    try {
      const fake = join(dir, 'nvidia-smi');
      // Answers only when called with the expected query, as the real program would.
      writeFileSync(fake, '#!/bin/sh\n[ "$1" = "--query-gpu=name,compute_cap,driver_version" ] && [ "$2" = "--format=csv,noheader" ] && echo "NVIDIA L4, 8.9, 560.28.03"\n');
      chmodSync(fake, 0o755);
      process.env.SCT_DIFF_NVIDIA_SMI = fake;
      expect(await queryGpus()).toEqual([{ name: 'NVIDIA L4', computeCapability: '8.9', driverVersion: '560.28.03' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('returns no GPUs when the program is missing', async () => {
    process.env.SCT_DIFF_NVIDIA_SMI = '/nonexistent/nvidia-smi';
    expect(await queryGpus()).toEqual([]);
  });
});
