import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliDependencies } from '../../lib/cli/index.js';
import type { CliBenchmarkAccess, CliBenchmarkSequence } from '../../lib/cli/dependencies.js';
import { drawCurvePlot } from '../../lib/cli/plot.js';
import { Progress } from '../../lib/cli/progress.js';
import { evaluate } from '../../lib/eval/evaluate.js';
import type { Box } from '../../lib/geometry/box.js';
import { encodePng } from '../../lib/io/index.js';
import { Tracker } from '../../lib/tracker/tracker.js';
import { TestEngine, makeTestFrame, syntheticTrajectory } from '../helpers/test-engine.js';
import { Capture } from '../helpers/capture.js';

const FRAMES = 14;
const GT = syntheticTrajectory(FRAMES);
let dir: string;

/** A two-sequence benchmark on disk, read and written in a simple format of the test's own. */
function fakeBenchmark(root: string): CliBenchmarkAccess & { written: Map<string, Box[]> } {
  const written = new Map<string, Box[]>();
  return {
    written,
    readSequences: async (dataset, folder) => {
      expect(dataset).toBe('got10k');
      expect(folder).toBe(root);
      return ['seq-a', 'seq-b'].map((name): CliBenchmarkSequence => ({ name, frames: join(root, name), groundTruth: GT, cover: GT.map(() => 8) }));
    },
    writeResults: async (_dataset, folder, sequence, boxes) => {
      written.set(sequence.name, [...boxes]);
      const path = join(folder, `${sequence.name}.txt`);
      writeFileSync(path, boxes.map((b) => `${b.x},${b.y},${b.width},${b.height}`).join('\n'));
      return [path];
    },
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sct-eval-'));
  for (const name of ['seq-a', 'seq-b']) {
    mkdirSync(join(dir, 'data', name), { recursive: true });
    for (let k = 0; k < FRAMES; k++) writeFileSync(join(dir, 'data', name, `${String(k + 1).padStart(8, '0')}.png`), encodePng(makeTestFrame(k)));
  }
}, 120_000); // generating test media takes a while on a loaded machine
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sct-diff eval', () => {
  it('tracks every sequence, writes results, metrics.json and both plots', async () => {
    const root = join(dir, 'data');
    const out = join(dir, 'out');
    const benchmarks = fakeBenchmark(root);
    const deps: Partial<CliDependencies> = {
      benchmarks,
      createTracker: (options) => Tracker.create({ engine: new TestEngine({ groundTruth: GT }), ...(options.latency ? { latency: options.latency } : {}) }),
    };
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(['eval', '--dataset', 'got10k', '--root', root, '--out', out], { stdout, stderr }, deps);
    expect(stderr.text).not.toContain('error');
    expect(code).toBe(0);
    expect([...benchmarks.written.keys()]).toEqual(['seq-a', 'seq-b']);
    expect(existsSync(join(out, 'results', 'seq-a.txt'))).toBe(true);

    // The metrics are the got10k protocol's on exactly the boxes handed to the result writer.
    const expected = evaluate(
      [...benchmarks.written].map(([name, predictions]) => ({ name, groundTruth: GT, predictions, cover: GT.map(() => 8), imageSize: { width: 320, height: 240 } })),
      { protocol: 'got10k' },
    );
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { dataset: string; sequences: number; metrics: Record<string, number> };
    expect(metrics.dataset).toBe('got10k');
    expect(metrics.sequences).toBe(2);
    expect(metrics.metrics.AO).toBeCloseTo(expected.averageOverlap, 12);
    expect(metrics.metrics['SR0.5']).toBeCloseTo(expected.successRate50, 12);
    expect(metrics.metrics.AO).toBeGreaterThan(0.7);
    expect(stdout.text).toContain('got10k: 2 sequences');
    expect(stdout.text).toContain(`AO      ${expected.averageOverlap.toFixed(4)}`);

    for (const plot of ['success.png', 'precision.png']) {
      const size = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', join(out, plot)]).toString().trim();
      expect(size).toBe('640,480');
    }
  });

  it('--sequences selects sequences and rejects unknown names with exit 2', async () => {
    const root = join(dir, 'data');
    const benchmarks = fakeBenchmark(root);
    const deps: Partial<CliDependencies> = { benchmarks, createTracker: () => Tracker.create({ engine: new TestEngine({ groundTruth: GT }) }) };
    const ok = await main(['eval', '--dataset', 'got10k', '--root', root, '--out', join(dir, 'out2'), '--sequences', 'seq-b', '--quiet'], { stdout: new Capture(), stderr: new Capture() }, deps);
    expect(ok).toBe(0);
    expect([...benchmarks.written.keys()]).toEqual(['seq-b']);
    const stderr = new Capture();
    const bad = await main(['eval', '--dataset', 'got10k', '--root', root, '--sequences', 'seq-z'], { stdout: new Capture(), stderr }, deps);
    expect(bad).toBe(2);
    expect(stderr.text).toContain('unknown "seq-z"');
  });

  it('reads a GOT-10k layout with the default readers and writes GOT-10k result files', async () => {
    const root = join(dir, 'GOT-10k', 'val');
    for (const name of ['GOT-10k_Val_000001', 'GOT-10k_Val_000002']) {
      const seq = join(root, name);
      mkdirSync(seq, { recursive: true });
      for (let k = 0; k < FRAMES; k++) writeFileSync(join(seq, `${String(k + 1).padStart(8, '0')}.png`), encodePng(makeTestFrame(k)));
      writeFileSync(join(seq, 'groundtruth.txt'), GT.map((b) => `${b.x},${b.y},${b.width},${b.height}`).join('\n'));
      writeFileSync(join(seq, 'absence.label'), GT.map(() => '0').join('\n'));
      writeFileSync(join(seq, 'cover.label'), GT.map(() => '8').join('\n'));
    }
    const out = join(dir, 'got10k-out');
    const stdout = new Capture();
    const stderr = new Capture();
    // --root may name the dataset folder: its "val" split is used.
    const code = await main(['eval', '--dataset', 'got10k', '--root', join(dir, 'GOT-10k'), '--out', out, '--quiet'], { stdout, stderr }, {
      createTracker: () => Tracker.create({ engine: new TestEngine({ groundTruth: GT }) }),
    });
    expect(stderr.text).toBe('');
    expect(code).toBe(0);
    const boxes = readFileSync(join(out, 'results', 'GOT-10k_Val_000002', 'GOT-10k_Val_000002_001.txt'), 'utf8').trim().split('\n');
    expect(boxes).toHaveLength(FRAMES);
    expect(boxes[0]).toBe(`${GT[0]!.x.toFixed(3)},${GT[0]!.y.toFixed(3)},${GT[0]!.width.toFixed(3)},${GT[0]!.height.toFixed(3)}`);
    expect(existsSync(join(out, 'results', 'GOT-10k_Val_000002', 'GOT-10k_Val_000002_time.txt'))).toBe(true);
    expect(stdout.text).toContain('got10k: 2 sequences');
  });

  it('reads an OTB layout, skips a partially annotated sequence, writes OTB result files', async () => {
    const root = join(dir, 'OTB');
    for (const [name, annotated] of [['Walker', FRAMES], ['David', FRAMES - 4]] as const) {
      mkdirSync(join(root, name, 'img'), { recursive: true });
      for (let k = 0; k < FRAMES; k++) writeFileSync(join(root, name, 'img', `${String(k + 1).padStart(4, '0')}.png`), encodePng(makeTestFrame(k)));
      writeFileSync(join(root, name, 'groundtruth_rect.txt'), GT.slice(0, annotated).map((b) => `${b.x}\t${b.y}\t${b.width}\t${b.height}`).join('\n'));
    }
    const out = join(dir, 'otb-out');
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(['eval', '--dataset', 'otb', '--root', root, '--out', out, '--quiet'], { stdout, stderr }, {
      createTracker: () => Tracker.create({ engine: new TestEngine({ groundTruth: GT }) }),
    });
    expect(code).toBe(0);
    expect(stderr.text).toBe('sct-diff eval: skipping 1 sequences whose annotation does not cover every frame: David\n');
    expect(readFileSync(join(out, 'results', 'Walker.txt'), 'utf8').trim().split('\n')).toHaveLength(FRAMES);
    expect(existsSync(join(out, 'results', 'times', 'Walker_time.txt'))).toBe(true);
    expect(existsSync(join(out, 'results', 'David.txt'))).toBe(false);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { sequences: number; metrics: Record<string, number> };
    expect(metrics.sequences).toBe(1);
    expect(Object.keys(metrics.metrics)).toEqual(['Success (AUC)', 'Precision', 'Success rate 0.5']);
    expect(stdout.text).toContain('otb: 1 sequences');
  });

  it('tracks a test split with first-frame annotation only: result files, no metrics', async () => {
    const seq = join(dir, 'GOT-10k', 'test', 'GOT-10k_Test_000001');
    mkdirSync(seq, { recursive: true });
    for (let k = 0; k < FRAMES; k++) writeFileSync(join(seq, `${String(k + 1).padStart(8, '0')}.png`), encodePng(makeTestFrame(k)));
    writeFileSync(join(seq, 'groundtruth.txt'), `${GT[0]!.x},${GT[0]!.y},${GT[0]!.width},${GT[0]!.height}\n`);
    const out = join(dir, 'got10k-test-out');
    const stdout = new Capture();
    const code = await main(['eval', '--dataset', 'got10k', '--root', join(dir, 'GOT-10k', 'test'), '--out', out, '--quiet'], { stdout, stderr: new Capture() }, {
      createTracker: () => Tracker.create({ engine: new TestEngine({ groundTruth: GT }) }),
    });
    expect(code).toBe(0);
    expect(stdout.text).toContain('no metrics');
    expect(readFileSync(join(out, 'results', 'GOT-10k_Test_000001', 'GOT-10k_Test_000001_001.txt'), 'utf8').trim().split('\n')).toHaveLength(FRAMES);
    expect(existsSync(join(out, 'metrics.json'))).toBe(false);
  });

  it('exits 1 for a missing dataset folder', async () => {
    const stderr = new Capture();
    const code = await main(['eval', '--dataset', 'lasot', '--root', join(dir, 'no-lasot')], { stdout: new Capture(), stderr });
    expect(code).toBe(1);
    expect(stderr.text).toContain('no such folder');
  });

  it('exits 1 without dataset readers', async () => {
    const stderr = new Capture();
    const code = await main(['eval', '--dataset', 'otb', '--root', dir], { stdout: new Capture(), stderr }, { benchmarks: undefined });
    expect(code).toBe(1);
    expect(stderr.text).toContain('no benchmark dataset readers');
  });
});

describe('drawCurvePlot', () => {
  it('draws a curve where its values are', () => {
    const thresholds = Array.from({ length: 11 }, (_, i) => i / 10);
    const frame = drawCurvePlot({ title: 'T', xLabel: 'X', yLabel: 'Y', thresholds, curves: [{ label: 'A', values: thresholds.map(() => 0.5), color: [0, 200, 0] }] });
    expect(frame).toMatchObject({ width: 640, height: 480, format: 'rgb' });
    // Plot area: x 70..620, y 40..425; y = 0.5 lies at row 232.5; the line is 3 px thick.
    const green = (x: number, y: number): boolean => frame.data[(y * 640 + x) * 3] === 0 && frame.data[(y * 640 + x) * 3 + 1] === 200;
    expect([231, 232, 233].some((y) => green(300, y))).toBe(true);
    expect(green(300, 100)).toBe(false);
    expect(green(300, 400)).toBe(false);
  });
});

describe('Progress', () => {
  it('writes plain periodic lines when not a terminal', () => {
    let now = 0;
    const stream = new Capture(false);
    const progress = new Progress(stream, { label: 'track', total: 100, lineIntervalSeconds: 5, now: () => now });
    for (let i = 0; i < 100; i++) {
      now += 100; // 10 frames per second
      progress.tick();
    }
    progress.end();
    const lines = stream.text.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)).toBe('track  100/100 frames  10.0 fps  ETA 0s');
    expect(stream.text).not.toContain('\r');
  });

  it('redraws one bar line on a terminal', () => {
    let now = 0;
    const stream = new Capture(true);
    const progress = new Progress(stream, { label: 'track', total: 10, now: () => now });
    for (let i = 0; i < 10; i++) {
      now += 200;
      progress.tick();
    }
    progress.end();
    expect(stream.text.startsWith('\r[')).toBe(true);
    expect(stream.text.trimEnd().endsWith('10/10 frames  5.0 fps  ETA 0s\x1b[K')).toBe(true);
    expect(stream.text.split('\n')).toHaveLength(2);
  });

  it('writes nothing when quiet', () => {
    const stream = new Capture(true);
    const progress = new Progress(stream, { label: 'x', quiet: true });
    progress.tick();
    progress.end();
    expect(stream.text).toBe('');
  });
});
