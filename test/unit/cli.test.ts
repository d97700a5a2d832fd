import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliDependencies, type CliTracker } from '../../lib/cli/index.js';
import type { Frame } from '../../lib/engine/types.js';
import type { Box } from '../../lib/geometry/box.js';
import { encodePng, openVideo } from '../../lib/io/index.js';
import { trackingOptionsOf } from '../../lib/cli/dependencies.js';
import { Tracker } from '../../lib/tracker/tracker.js';
import { TestEngine, TEST_MODEL, iou, makeTestFrame, syntheticTrajectory } from '../helpers/test-engine.js';
import { Capture } from '../helpers/capture.js';

async function run(argv: string[], deps: Partial<CliDependencies> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(argv, { stdout, stderr }, deps);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const FRAMES = 24;
const GT = syntheticTrajectory(FRAMES);
let dir: string;
let video: string;
let folder: string;

/** The real Tracker on the deterministic test engine, which reads frame indices from pixels. */
const testTracker: Partial<CliDependencies> = {
  createTracker: (options) =>
    Tracker.create({
      engine: new TestEngine({ groundTruth: GT }),
      ...trackingOptionsOf(options),
    }),
};

function boxArg(b: Box): string {
  return `${b.x},${b.y},${b.width},${b.height}`;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sct-cli-'));
  // A lossless video (ffv1) whose frames carry their index in the first bytes, as the test engine needs.
  const raw = Buffer.concat(Array.from({ length: FRAMES }, (_, k) => makeTestFrame(k).data));
  video = join(dir, 'indexed.mkv');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '320x240', '-r', '10', '-i', 'pipe:0', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', video], { input: raw });
  folder = join(dir, 'frames');
  mkdirSync(folder);
  for (let k = 0; k < FRAMES; k++) writeFileSync(join(folder, `${String(k + 1).padStart(8, '0')}.png`), encodePng(makeTestFrame(k)));
}, 120_000); // generating test media takes a while on a loaded machine
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sct-diff help and usage', () => {
  it.each(['track', 'eval', 'bench', 'inspect'])('%s --help prints its usage and exits 0', async (command) => {
    const { code, stdout } = await run([command, '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: sct-diff ${command}`);
    expect(stdout).toMatch(/Exit status/);
  });

  it('top-level --help exits 0, no command exits 2, unknown command exits 2', async () => {
    expect((await run(['--help'])).code).toBe(0);
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: sct-diff <command>');
    const unknown = await run(['trak']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "trak"');
  });

  it.each([
    [['track', 'v.mp4'], 'Expected --box x,y,w,h'],
    [['track', '--box', '1,2,3,4'], 'Expected one video file or frames folder but received none'],
    [['track', 'v.mp4', '--box', '1,2,3'], 'Expected --box as four comma-separated numbers x,y,w,h but received "1,2,3"'],
    [['track', 'v.mp4', '--box', '1,2,-3,4'], 'Expected a finite positive width in --box but received -3'],
    [['track', 'v.mp4', '--box', '1,2,3,4', '--stride', '0'], 'Expected an integer of at least 1 for --stride but received "0"'],
    [['track', 'v.mp4', '--box', '1,2,3,4', '--template-threshold', 'high'], 'Expected a finite number of at least 0 for --template-threshold but received "high"'],
    [['track', 'v.mp4', '--box', '1,2,3,4', '--template-interval', '0'], 'Expected an integer of at least 1 for --template-interval but received "0"'],
    [['eval', '--dataset', 'got10k', '--root', 'x', '--template-threshold=-1'], 'Expected a finite number of at least 0 for --template-threshold but received "-1"'],
    [['track', 'v.mp4', '--box', '1,2,3,4', '--seed=-1'], 'Expected an integer from 0 to 2^64 - 1 (decimal or 0x-hex) for --seed but received "-1"'],
    [['eval', '--dataset', 'got10k', '--root', 'x', '--seed', '18446744073709551616'], 'for --seed but received "18446744073709551616"'],
    [['track', 'v.mp4', '--box', '1,2,3,4', '--seed', '1.5'], 'for --seed but received "1.5"'],
    [['track', 'v.mp4', '--box', '1,2,3,4', '--device', 'gpu'], 'Expected --device to be one of auto, cpu, cuda but received "gpu"'],
    [['track', 'v.mp4', '--box', '1,2,3,4', '--frobnicate'], "Unknown option '--frobnicate'"],
    [['eval', '--root', 'x'], 'Expected --dataset'],
    [['eval', '--dataset', 'vot', '--root', 'x'], 'Expected --dataset to be one of got10k, lasot, trackingnet, otb but received "vot"'],
    [['bench', '--threads=-1'], 'Expected an integer of at least 0 for --threads but received "-1"'],
    [['inspect', 'extra'], 'Expected no positional arguments'],
  ])('%j exits 2 with a message', async (argv, message) => {
    const { code, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain(`Run "sct-diff ${argv[0]} --help" for usage.`);
  });
});

describe('sct-diff track', () => {
  it('exits 1 with a clear message for a missing input', async () => {
    const { code, stderr } = await run(['track', join(dir, 'missing.mp4'), '--box', '1,2,3,4'], testTracker);
    expect(code).toBe(1);
    expect(stderr).toContain('no such video file or frames folder');
  });

  it('exits 1 with a clear message for a missing model file', async () => {
    const model = join(dir, 'nope.safetensors');
    const { code, stderr } = await run(['track', video, '--box', boxArg(GT[0]!), '--model', model], testTracker);
    expect(code).toBe(1);
    expect(stderr).toContain(`Could not load model "${model}": the file does not exist`);
  });

  it('exits 2 with a clear message for a box outside the frame', async () => {
    const { code, stderr } = await run(['track', video, '--box', '400,10,20,20'], testTracker);
    expect(code).toBe(2);
    expect(stderr).toContain('Expected --box to overlap the 320x240 first frame but received 400,10,20,20');
  });

  it('exits 2 for a --stride above the model clip length', async () => {
    const { code, stderr } = await run(['track', video, '--box', boxArg(GT[0]!), '--stride', '7'], testTracker);
    expect(code).toBe(2);
    expect(stderr).toContain("Expected a --stride between 1 and 6 (the model's clip length) but received 7");
  });

  it('exits 1 when the engine cannot be created', async () => {
    const { code, stderr } = await run(['track', video, '--box', boxArg(GT[0]!)], {
      createTracker: () => Tracker.create({ engine: new TestEngine({ groundTruth: GT, model: { clipLength: 0 } }) }),
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/sct-diff track: /);
  });

  it('--template-threshold and --template-interval set the dynamic template policy', async () => {
    const updates = async (extra: string[]): Promise<string[]> => {
      const { code, stderr } = await run(['track', folder, '--box', boxArg(GT[0]!), '--verbose', '--quiet', ...extra], testTracker);
      expect(code, stderr).toBe(0);
      return stderr.split('\n').filter((line) => line.includes('dynamic template from frame'));
    };
    // The test engine's scores lie in (0, 1): at threshold 0 each window may update (interval 1),
    // above 1 none may, and a long interval spaces the updates out.
    const every = await updates(['--template-threshold', '0']);
    expect(every.length).toBeGreaterThan(3);
    expect(await updates(['--template-threshold', '1.5'])).toEqual([]);
    const spaced = await updates(['--template-threshold', '0', '--template-interval', '10']);
    expect(spaced.length).toBeGreaterThan(0);
    expect(spaced.length).toBeLessThan(every.length);
  });

  it('--seed sets the decoder noise: the same seed repeats the boxes, another changes them', async () => {
    const boxes = async (extra: string[]): Promise<unknown> => {
      const json = join(dir, `seed-${extra.join('-') || 'default'}.json`);
      const { code, stderr } = await run(['track', folder, '--box', boxArg(GT[0]!), '--quiet', '--json', json, ...extra], testTracker);
      expect(code, stderr).toBe(0);
      return JSON.parse(readFileSync(json, 'utf8'));
    };
    const seven = await boxes(['--seed', '7']);
    expect(await boxes(['--seed', '0x7'])).toEqual(seven);
    expect(await boxes(['--seed', '8'])).not.toEqual(seven);
    expect(await boxes([])).toEqual(await boxes(['--seed', '0x5C7D1FF'])); // the documented default
  });

  it('tracks a video end to end: JSON boxes near the truth and an annotated video', async () => {
    const json = join(dir, 'boxes.json');
    const out = join(dir, 'annotated.mp4');
    const { code, stdout, stderr } = await run(['track', video, '--box', boxArg(GT[0]!), '--json', json, '--out', out, '--stride', '2'], testTracker);
    expect(stderr).not.toContain('error');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Tracked 24 frames on test/);
    const entries = JSON.parse(readFileSync(json, 'utf8')) as Array<{ frame: number; box: number[]; score: number; revised: boolean }>;
    expect(entries.map((e) => e.frame)).toEqual(Array.from({ length: FRAMES }, (_, k) => k));
    expect(entries[0]).toEqual({ frame: 0, box: [GT[0]!.x, GT[0]!.y, GT[0]!.width, GT[0]!.height], score: 1, revised: false });
    for (const entry of entries) {
      const [x, y, width, height] = entry.box as [number, number, number, number];
      expect(iou({ x, y, width, height }, GT[entry.frame]!)).toBeGreaterThan(0.7);
      expect(entry.score).toBeGreaterThan(0);
      expect(entry.score).toBeLessThanOrEqual(1);
    }
    expect(entries.some((e) => e.revised)).toBe(true); // stride 2 < clip length 6: windows overlap

    const annotated = await openVideo(out);
    expect(annotated.metadata).toMatchObject({ width: 320, height: 240, frameCount: FRAMES, fps: 10 });
    let k = 0;
    for await (const frame of annotated) {
      const [x, y, width] = entries[k]!.box as [number, number, number, number];
      // The middle of the box's top edge is red; the box's centre is still the grey background.
      const at = (px: number, py: number): number[] => Array.from(frame.data.subarray((py * 320 + px) * 3, (py * 320 + px) * 3 + 3));
      const [r, g] = at(Math.round(x + width / 2), Math.round(y) + 1) as [number, number];
      expect(r - g).toBeGreaterThan(60);
      const [cr, cg] = at(Math.round(x + width / 2), Math.round(y + (entries[k]!.box[3] as number) / 2)) as [number, number];
      expect(Math.abs(cr - cg)).toBeLessThan(30);
      k++;
    }
    expect(k).toBe(FRAMES);
    expect(readdirSync(dir).filter((name) => name.includes('.partial'))).toEqual([]);
  });

  it('tracks a frames folder with frame latency and prints JSON to stdout without --out/--json', async () => {
    const { code, stdout } = await run(['track', folder, '--box', boxArg(GT[0]!), '--quiet', '--latency', 'frame'], testTracker);
    expect(code).toBe(0);
    const entries = JSON.parse(stdout) as Array<{ frame: number; box: number[] }>;
    expect(entries).toHaveLength(FRAMES);
    const last = entries[FRAMES - 1]!.box as [number, number, number, number];
    expect(iou({ x: last[0], y: last[1], width: last[2], height: last[3] }, GT[FRAMES - 1]!)).toBeGreaterThan(0.7);
  });

  it('draws each frame with its final, revised box, not the first estimate', async () => {
    // A scripted tracker: frame k is first reported at x = 10 and revised two frames later to x = 200.
    const early: Box = { x: 10, y: 60, width: 60, height: 60 };
    const late: Box = { x: 200, y: 60, width: 60, height: 60 };
    const scripted: CliTracker = {
      backend: 'scripted',
      model: { ...TEST_MODEL, clipLength: 3 },
      init: async () => undefined,
      track: async (frame: Frame) => {
        const k = frame.data[0]!; // makeTestFrame's index (< 256)
        const revised = k >= 3 ? [{ frameIndex: k - 2, box: late, score: 0.9 }] : [];
        return { frameIndex: k, box: early, score: 0.5, revised };
      },
      finish: async () => Array.from({ length: FRAMES }, (_, k) => ({ frameIndex: k, box: k === 0 ? early : late, score: 0.9 })),
      dispose: async () => undefined,
    };
    const out = join(dir, 'revised.mp4');
    const json = join(dir, 'revised.json');
    const { code } = await run(['track', video, '--box', boxArg(early), '--out', out, '--json', json, '--quiet'], { createTracker: async () => scripted });
    expect(code).toBe(0);
    const entries = JSON.parse(readFileSync(json, 'utf8')) as Array<{ revised: boolean }>;
    expect(entries.map((e) => e.revised)).toEqual(Array.from({ length: FRAMES }, (_, k) => k > 0));
    let k = 0;
    for await (const frame of await openVideo(out)) {
      const redAt = (x: number): number => frame.data[(61 * 320 + x) * 3]! - frame.data[(61 * 320 + x) * 3 + 1]!;
      if (k === 0) expect(redAt(40)).toBeGreaterThan(60);
      else {
        expect(redAt(230)).toBeGreaterThan(60);
        expect(redAt(40)).toBeLessThan(30);
      }
      k++;
    }
    expect(k).toBe(FRAMES);
  });

  it('--verbose shows the tracker log on stderr; without it, debug lines stay hidden', async () => {
    const verbose = await run(['track', folder, '--box', boxArg(GT[0]!), '--quiet', '--verbose', '--json', join(dir, 'verbose.json')], testTracker);
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toMatch(/^sct-diff track: decoded window \[\d+\.\.\d+\]/m);
    const quiet = await run(['track', folder, '--box', boxArg(GT[0]!), '--quiet', '--json', join(dir, 'quiet.json')], testTracker);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('with window latency, writes each frame only after its last revision', async () => {
    // A scripted window-latency tracker with N = 4: the result of frame k arrives one call
    // later, and revises frames k − 3 … k − 1 (the rest of its window). A frame j is thus
    // reported at x = 10 and revised to x = 50, 90 and finally 130 by the results of frames
    // j + 1, j + 2, j + 3: its box is final only N − 1 frames later.
    const boxAt = (x: number): Box => ({ x, y: 60, width: 60, height: 60 });
    const results: Array<() => void> = [];
    const windowed: CliTracker = {
      backend: 'windowed',
      model: { ...TEST_MODEL, clipLength: 4 },
      init: async () => undefined,
      track: (frame: Frame) => {
        const k = frame.data[0]!;
        results.shift()?.(); // the previous frame's window is decoded now
        return new Promise((resolve) => {
          results.push(() =>
            resolve({
              frameIndex: k,
              box: boxAt(10),
              score: 0.5,
              revised: [k - 3, k - 2, k - 1].filter((j) => j >= 1).map((j) => ({ frameIndex: j, box: boxAt(10 + 40 * (k - j)), score: 0.9 })),
            }),
          );
        });
      },
      finish: async () => {
        results.shift()?.();
        return Array.from({ length: FRAMES }, (_, k) => ({ frameIndex: k, box: boxAt(k === 0 ? 10 : 130), score: 0.9 }));
      },
      dispose: async () => undefined,
    };
    const out = join(dir, 'windowed.mp4');
    const { code, stderr } = await run(['track', video, '--box', boxArg(boxAt(10)), '--out', out, '--quiet'], { createTracker: async () => windowed });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    let k = 0;
    for await (const frame of await openVideo(out)) {
      const redAt = (x: number): number => frame.data[(61 * 320 + x) * 3]! - frame.data[(61 * 320 + x) * 3 + 1]!;
      const finalX = k === 0 ? 10 : 130;
      for (const x of [10, 50, 90, 130]) {
        if (x === finalX) expect(redAt(x + 30)).toBeGreaterThan(60);
        else expect(redAt(x + 30)).toBeLessThan(30);
      }
      k++;
    }
    expect(k).toBe(FRAMES);
  });

  it('leaves no output behind when tracking fails mid-video', async () => {
    const out = join(dir, 'failed.mp4');
    const json = join(dir, 'failed.json');
    const failing: CliTracker = {
      backend: 'failing',
      model: TEST_MODEL,
      init: async () => undefined,
      track: async (frame: Frame) => {
        if (frame.data[0] === 15) throw new (await import('../../lib/errors.js')).NativeError('engine exploded');
        return { frameIndex: frame.data[0]!, box: GT[0]!, score: 0.5, revised: [] };
      },
      finish: async () => [],
      dispose: async () => undefined,
    };
    const { code, stderr } = await run(['track', video, '--box', boxArg(GT[0]!), '--out', out, '--json', json], { createTracker: async () => failing });
    expect(code).toBe(1);
    expect(stderr).toContain('engine exploded');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(json)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('.partial'))).toEqual([]);
  });
});

describe('interruption', () => {
  it('stops at the next frame, removes partial output and exits 130', async () => {
    const controller = new AbortController();
    const interrupting: CliTracker = {
      backend: 'interrupting',
      model: TEST_MODEL,
      init: async () => undefined,
      track: async (frame: Frame) => {
        if (frame.data[0] === 10) controller.abort(); // as if Ctrl-C arrived while frame 10 was tracked
        return { frameIndex: frame.data[0]!, box: GT[0]!, score: 0.5, revised: [] };
      },
      finish: async () => [],
      dispose: async () => undefined,
    };
    const out = join(dir, 'interrupted.mp4');
    const json = join(dir, 'interrupted.json');
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(['track', video, '--box', boxArg(GT[0]!), '--out', out, '--json', json], { stdout, stderr, signal: controller.signal }, { createTracker: async () => interrupting });
    expect(code).toBe(130);
    expect(stderr.text).toContain('sct-diff track: interrupted; no incomplete output file was left behind');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(json)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('.partial'))).toEqual([]);
  });
});

describe('sct-diff inspect and bench', () => {
  it('inspect exits 1 naming a missing model file', async () => {
    const model = join(dir, 'absent.safetensors');
    const { code, stdout, stderr } = await run(['inspect', '--model', model], { availableBackends: async () => [{ name: 'cpu', available: true, detail: 'built in' }] });
    expect(code).toBe(1);
    expect(stdout).toContain('cpu       available');
    expect(stdout).toContain('no CUDA backend');
    expect(stderr).toContain(`Could not load model "${model}": the file does not exist`);
  });

  it('inspect summarizes a model file and lists backends and GPUs', async () => {
    const weights = join(import.meta.dirname, '..', 'fixtures', 'goldens', 'weights.safetensors');
    const deps: Partial<CliDependencies> = {
      availableBackends: async () => [
        { name: 'cuda', available: false, detail: 'not built' },
        { name: 'cpu', available: true, detail: 'built in' },
      ],
      queryGpus: async () => [{ name: 'NVIDIA H100 80GB HBM3', computeCapability: '9.0', driverVersion: '550.54.15' }],
    };
    const { code, stdout } = await run(['inspect', '--model', weights], deps);
    expect(code).toBe(0);
    expect(stdout).toContain('cuda      unavailable  not built');
    expect(stdout).toContain('driver reports: NVIDIA H100 80GB HBM3, compute capability 9.0, driver 550.54.15');
    expect(stdout).toContain('format          sct-diff v1');
    expect(stdout).toContain('config          micro');
    const json = await run(['inspect', '--model', weights, '--json'], deps);
    const parsed = JSON.parse(json.stdout) as { model: { parameterCount: number; tensorCount: number; configName: string }; gpus: unknown[] };
    // Cross-check with an independent reading of the header in Python.
    const script = 'import json,struct,sys,math\nb=open(sys.argv[1],"rb").read()\nn=struct.unpack("<Q",b[:8])[0]\nh=json.loads(b[8:8+n])\nprint(sum(math.prod(v["shape"]) for k,v in h.items() if k!="__metadata__"), len(h)-1, json.loads(h["__metadata__"]["config"])["name"])';
    const [count, tensors, name] = execFileSync('python3', ['-c', script, weights]).toString().trim().split(' ');
    expect(parsed.model.parameterCount).toBe(Number(count));
    expect(parsed.model.tensorCount).toBe(Number(tensors));
    expect(parsed.model.configName).toBe(name);
    expect(stdout).toContain(`(${Number(count).toLocaleString('en-US')}) in ${tensors} tensors`);
    expect(parsed.gpus).toHaveLength(1);
  });

  it('bench without an engine benchmark says what it would measure and exits 1', async () => {
    const { code, stdout, stderr } = await run(['bench'], { runBenchmark: undefined });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('no engine benchmark');
  });

  it('bench prints the rows the engine benchmark returns', async () => {
    const { code, stdout } = await run(['bench', '--device', 'cpu'], { runBenchmark: async (o) => [{ name: `encoder on ${o.device}`, milliseconds: 12.5, fps: 80 }] });
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(/^name\s+milliseconds\s+fps$/);
    expect(stdout).toMatch(/encoder on cpu\s+12\.50\s+80/);
  });
});
