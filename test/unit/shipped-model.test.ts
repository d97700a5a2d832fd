/**
 * The shipped model tracks: `sct-diff eval` with the default model on four held-out validation
 * sequences (training/make_valset.py, 40 frames each), at the default stride 3. Measured
 * 2026-12-08 with the seventh shipped model (stage-2 run c16): AO 0.792, SR0.5 0.981 (the
 * sixth: 0.790, 0.968; the fifth: 0.789, 0.974; the fourth: 0.598, 0.740; the third: 0.616, 0.766; the second,
 * stage 1 only: 0.729, 0.922) on these four; answering the initial box
 * on every frame scores 0.169 on the full valset
 * (docs/models.md), a model that ignores the image about that. Skipped where the addon is not
 * built or the model file is absent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/index.js';
import { cpuBackendStatus } from '../../lib/engine/backends.js';
import { defaultModelPath } from '../../lib/tracker/index.js';
import { Capture } from '../helpers/capture.js';

const repo = join(import.meta.dirname, '..', '..');
const ready = existsSync(defaultModelPath()) && cpuBackendStatus().available;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sct-shipped-'));
  if (!ready) return;
  execFileSync('/usr/bin/python3', [join(repo, 'training', 'make_valset.py'), '--out', dir, '--sequences', '4', '--frames', '40'], {
    cwd: repo,
    stdio: 'pipe',
  });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!ready)('the shipped model', () => {
  it('tracks held-out validation sequences far above a box that never moves', async () => {
    const out = join(dir, 'eval');
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(['eval', '--dataset', 'got10k', '--root', join(dir, 'val'), '--out', out, '--device', 'cpu', '--quiet'], { stdout, stderr });
    expect(code, stderr.text).toBe(0);
    const { metrics } = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { metrics: Record<string, number> };
    expect(metrics.AO).toBeGreaterThan(0.5);
    expect(metrics['SR0.5']).toBeGreaterThan(0.7);
  });
});
