/**
 * `sct-diff track` end to end on the native CPU engine with the committed golden weights
 * (random micro-config weights: the boxes are meaningless, the plumbing is what is checked).
 * Skipped where the addon is not built.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/index.js';
import { cpuBackendStatus, cudaBackendStatus } from '../../lib/engine/backends.js';
import { openVideo } from '../../lib/io/index.js';
import { Capture } from '../helpers/capture.js';

const WEIGHTS = join(import.meta.dirname, '..', 'fixtures', 'goldens', 'weights.safetensors');
const ready = existsSync(WEIGHTS) && cpuBackendStatus().available;

let dir: string;
let video: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sct-cli-native-'));
  video = join(dir, 'in.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-frames:v', '12', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', video]);
}, 120_000); // generating test media takes a while on a loaded machine
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!ready)('sct-diff track on the native CPU engine', () => {
  it('tracks a video and writes consistent JSON and an annotated video', async () => {
    const out = join(dir, 'out.mp4');
    const json = join(dir, 'out.json');
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(['track', video, '--box', '50,40,30,20', '--model', WEIGHTS, '--device', 'cpu', '--threads', '1', '--out', out, '--json', json], { stdout, stderr });
    expect(stderr.text).not.toMatch(/error/i);
    expect(code).toBe(0);
    expect(stdout.text).toMatch(/^Tracked 12 frames on cpu/);
    const entries = JSON.parse(readFileSync(json, 'utf8')) as Array<{ frame: number; box: number[]; score: number; revised: boolean }>;
    expect(entries.map((e) => e.frame)).toEqual(Array.from({ length: 12 }, (_, k) => k));
    expect(entries[0]!.box).toEqual([50, 40, 30, 20]);
    for (const e of entries) {
      expect(e.box.every(Number.isFinite)).toBe(true);
      expect(e.score).toBeGreaterThan(0);
      expect(e.score).toBeLessThanOrEqual(1);
    }
    const annotated = await openVideo(out);
    expect(annotated.metadata).toMatchObject({ width: 160, height: 120, frameCount: 12 });
  });

  it.skipIf(cudaBackendStatus().available)('--device auto says on stderr that it falls back to the CPU', async () => {
    const stderr = new Capture();
    const code = await main(['track', video, '--box', '50,40,30,20', '--model', WEIGHTS, '--quiet', '--json', join(dir, 'auto.json')], { stdout: new Capture(), stderr });
    expect(code).toBe(0);
    expect(stderr.text).toContain("sct-diff track: device 'auto' is using the CPU backend because");
  });

  it.skipIf(cudaBackendStatus().available)('--device cuda fails with exit 1 and a reason on a host without the CUDA backend', async () => {
    const stderr = new Capture();
    const code = await main(['track', video, '--box', '50,40,30,20', '--model', WEIGHTS, '--device', 'cuda'], { stdout: new Capture(), stderr });
    expect(code).toBe(1);
    expect(stderr.text).toContain('CUDA backend');
  });
});
