/**
 * scripts/score-candidate.sh applies the ship rule of docs/training.md. On two tiny generated
 * sets (2 validation and 3 tuning sequences of 12 frames), the shipped model scored against
 * itself can never pass (equal AO is not better, and a zero difference has no interval above 0),
 * and it does pass against an untrained model of the same config.
 * Skipped where the addon, the built CLI or the model file is absent.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackendStatus } from '../../lib/engine/backends.js';
import { defaultModelPath } from '../../lib/tracker/index.js';

const repo = join(import.meta.dirname, '..', '..');
const ready = existsSync(defaultModelPath()) && existsSync(join(repo, 'dist', 'cli', 'main.js')) && cpuBackendStatus().available;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sct-score-'));
  if (!ready) return;
  // Named like training/valset: a root called `val` would be read as the split folder itself.
  for (const [name, count, seed] of [['valset', 2, 5], ['tuneset', 3, 6]] as const) {
    execFileSync('/usr/bin/python3', [join(repo, 'training', 'make_valset.py'), '--out', join(dir, name), '--sequences', String(count), '--frames', '12', '--seed', String(seed)], {
      cwd: repo,
      stdio: 'pipe',
    });
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function score(name: string, baseline?: string, model = defaultModelPath()) {
  const env = { ...process.env, VALSET: join(dir, 'valset'), TUNESET: join(dir, 'tuneset'), EVAL_ROOT: join(dir, 'evals') };
  const args = [join(repo, 'scripts', 'score-candidate.sh'), model, name, ...(baseline ? [baseline] : [])];
  return spawnSync('bash', args, { cwd: repo, env, encoding: 'utf8' });
}

describe.skipIf(!ready)('scripts/score-candidate.sh', () => {
  it('scores a model on both sets and refuses to ship it against itself', () => {
    const base = score('base');
    expect(base.status, base.stderr).toBe(0);
    expect(base.stdout).toMatch(/base val\s+stage 2\s+stride 3:\s+AO \d\.\d{3}/);
    expect(base.stdout).toMatch(/base tune\s+stage 2\s+stride 3:\s+AO \d\.\d{3}/);
    expect(existsSync(join(dir, 'evals', 'score-base', 'val', 'stride-6', 'metrics.json'))).toBe(true);

    const same = score('same', 'base');
    expect(same.status, same.stderr).toBe(3);
    expect(same.stdout).toContain('pooled 5 sequences: mean AO difference +0.000');
    expect(same.stdout).toContain('-> do not ship');
  }, 300_000);

  it('ships the trained model over an untrained one', () => {
    const untrained = join(dir, 'untrained.safetensors');
    execFileSync('/usr/bin/python3', [join(repo, 'training', 'export.py'), '--config', 'tiny', '--random-seed', '0', '--out', untrained], { cwd: repo, stdio: 'pipe' });
    const random = score('untrained', undefined, untrained);
    expect(random.status, random.stderr).toBe(0);
    const trained = score('trained', 'untrained');
    expect(trained.status, trained.stdout + trained.stderr).toBe(0);
    expect(trained.stdout).toContain('interval above 0 -> SHIP');
  }, 300_000);

  it('asks for the baseline to be scored first', () => {
    const missing = score('other', 'never-scored');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('run this script on it first');
  });
});
