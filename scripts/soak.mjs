// Soak test: many frames through the built package on the CPU engine, checking that resident
// memory stays flat after warm-up. Not part of `npm test` (it runs for a long time); run it with
// `npm run soak` (builds dist/ first) or directly:
//
//   node --expose-gc scripts/soak.mjs [--frames 100000] [--trackers 2000] [--frames-per-tracker 50]
//        [--model test/fixtures/goldens/weights.safetensors] [--threads 1] [--sample-every 1000]
//        [--budget-mb 4] [--phase both|one|many] [--json result.json]
//
// Phase "one tracker": one Tracker, one sequence of --frames frames. The tracker keeps every
// frame's box for finish() by design, so that phase's JS-heap budget grows by
// TRAJECTORY_BYTES_PER_FRAME per frame of the judged half; memory outside the JS heap (frame
// copies, engine slots, native buffers) must not grow (see report()). Phase "many trackers": --trackers trackers created, fed --frames-per-tracker
// frames, finished and disposed one after the other; each loads its own engine, so leaks in
// engine creation/disposal or per-sequence state show up here.
// The model defaults to the committed micro golden weights (random, tiny, fast): memory
// behaviour does not depend on what the weights say. Exit code 1 when a phase is not flat.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { judgeTrend, lowerEnvelope } from './soak-trend.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// A StoredEstimate {box {x, y, width, height}, score, locked} is ~100-150 bytes of V8 heap;
// 256 leaves room for array growth slack.
const TRAJECTORY_BYTES_PER_FRAME = 256;
const MB = 1024 * 1024;
// The verdict fits the floor of each 4 consecutive samples (see lowerEnvelope in soak-trend.mjs).
const ENVELOPE_GROUP = 4;

const { values: args } = parseArgs({
  options: {
    frames: { type: 'string', default: '100000' },
    trackers: { type: 'string', default: '2000' },
    'frames-per-tracker': { type: 'string', default: '50' },
    model: { type: 'string', default: path.join(root, 'test/fixtures/goldens/weights.safetensors') },
    threads: { type: 'string', default: '1' },
    'sample-every': { type: 'string', default: '1000' },
    'budget-mb': { type: 'string', default: '4' },
    phase: { type: 'string', default: 'both' },
    json: { type: 'string' },
  },
});

function positiveInteger(name) {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Expected a positive integer for --${name} but received ${args[name]}`);
  }
  return value;
}

const frames = positiveInteger('frames');
const trackers = positiveInteger('trackers');
const framesPerTracker = positiveInteger('frames-per-tracker');
const sampleEvery = positiveInteger('sample-every');
const threads = Number(args.threads);
const budgetBytes = Number(args['budget-mb']) * MB;
if (!['both', 'one', 'many'].includes(args.phase)) {
  throw new RangeError(`Expected --phase both, one or many but received ${args.phase}`);
}

const { Tracker } = await import(path.join(root, 'dist/index.js'));

// A bright 40×30 square circling over a fixed texture, 320×240 RGB; 60 precomputed frames
// cycle so the harness itself allocates nothing per frame (the tracker copies each frame).
const WIDTH = 320;
const HEIGHT = 240;
const CYCLE = 60;
function targetBox(k) {
  const angle = (2 * Math.PI * (k % CYCLE)) / CYCLE;
  return { x: 140 + 60 * Math.cos(angle), y: 105 + 50 * Math.sin(angle), width: 40, height: 30 };
}
const cycle = Array.from({ length: CYCLE }, (_, k) => {
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + ((i / 960) | 0) * 11) & 127;
  const box = targetBox(k);
  for (let y = Math.round(box.y); y < Math.round(box.y) + box.height; y++) {
    for (let x = Math.round(box.x); x < Math.round(box.x) + box.width; x++) {
      const o = (y * WIDTH + x) * 3;
      data[o] = 250;
      data[o + 1] = 200 + ((x + y) & 31);
      data[o + 2] = 40;
    }
  }
  return { data, width: WIDTH, height: HEIGHT, format: 'rgb' };
});
const frameAt = (k) => cycle[k % CYCLE];

async function sample(at) {
  // Collect, let the addon's finalizers (queued by the collection) run, collect again.
  globalThis.gc?.();
  await new Promise((resolve) => setImmediate(resolve));
  globalThis.gc?.();
  const usage = process.memoryUsage();
  const s = { at, rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, seconds: process.uptime() };
  // Progress on stderr so a long run can be watched (`tail -f`).
  process.stderr.write(`  ${at}\t${s.seconds.toFixed(0)} s\tRSS ${mb(s.rss)}\theap ${mb(s.heapUsed)}\n`);
  return s;
}

function mb(bytes) {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/**
 * Two verdicts per phase, because resident memory mixes two things:
 * - outside the JS heap (RSS − V8's committed heap: the addon's buffers, malloc arenas, code):
 *   the floor of every ENVELOPE_GROUP samples must not grow by more than --budget-mb over the
 *   second half;
 * - the JS heap (heapUsed after a full collection): may grow by `heapAllowance(span)` — the
 *   trajectory in the one-tracker phase — plus --budget-mb.
 * RSS itself is reported too; in the one-tracker phase it grows with the heap the trajectory
 * occupies (V8 commits pages ahead of use), which is why it is not judged directly.
 */
function report(name, samples, heapAllowance, unit) {
  const per = unit.replace(/s$/, '');
  // Short runs: smaller groups, so that at least ~4 floor points fall in the second half.
  const group = Math.max(1, Math.min(ENVELOPE_GROUP, Math.floor(samples.length / 8)));
  const native = judgeTrend(
    lowerEnvelope(
      samples.map((s) => ({ at: s.at, rss: s.rss - s.heapTotal })),
      group,
    ),
    budgetBytes,
  );
  const heapSamples = samples.map((s) => ({ at: s.at, rss: s.heapUsed }));
  const heapSpan = judgeTrend(heapSamples, Infinity).span;
  const heap = judgeTrend(heapSamples, budgetBytes + heapAllowance(heapSpan));
  const rss = judgeTrend(lowerEnvelope(samples, group), Infinity);
  const warm = samples.find((s) => s.at >= samples[samples.length - 1].at / 2) ?? samples[0];
  const summary = {
    phase: name,
    units: samples[samples.length - 1].at,
    unit,
    seconds: samples[samples.length - 1].seconds - samples[0].seconds,
    rssStart: samples[0].rss,
    rssAfterWarmUp: warm.rss,
    rssEnd: samples[samples.length - 1].rss,
    rssFloorSlopeBytesPerUnit: rss.slopeBytesPerUnit,
    nativeFloorSlopeBytesPerUnit: native.slopeBytesPerUnit,
    nativeGrowthSecondHalf: native.growthBytes,
    nativeBudgetBytes: budgetBytes,
    heapSlopeBytesPerUnit: heap.slopeBytesPerUnit,
    heapGrowthSecondHalf: heap.growthBytes,
    heapBudgetBytes: budgetBytes + heapAllowance(heapSpan),
    flat: native.flat && heap.flat,
    samples,
  };
  console.log(
    `${name}: ${summary.units} ${unit} in ${summary.seconds.toFixed(0)} s; RSS start ${mb(summary.rssStart)}, ` +
      `after warm-up ${mb(summary.rssAfterWarmUp)}, end ${mb(summary.rssEnd)}, second-half floor slope ` +
      `${rss.slopeBytesPerUnit.toFixed(1)} B/${per}; outside the JS heap: ${native.slopeBytesPerUnit.toFixed(1)} B/${per} ` +
      `(growth ${mb(native.growthBytes)}, budget ${mb(budgetBytes)}); JS heap: ${heap.slopeBytesPerUnit.toFixed(1)} B/${per} ` +
      `(growth ${mb(heap.growthBytes)}, budget ${mb(summary.heapBudgetBytes)}) → ${summary.flat ? 'flat' : 'GROWING'}`,
  );
  return summary;
}

async function oneTracker() {
  const samples = [];
  const tracker = await Tracker.create({ model: args.model, device: 'cpu', threads });
  try {
    await tracker.init(frameAt(0), targetBox(0));
    samples.push(await sample(0));
    for (let k = 1; k < frames; k++) {
      const result = await tracker.track(frameAt(k));
      if (!Number.isFinite(result.box.x)) throw new Error(`Frame ${k} got a non-finite box`);
      if (k % sampleEvery === 0) samples.push(await sample(k));
    }
    if ((frames - 1) % sampleEvery !== 0) samples.push(await sample(frames - 1));
    await tracker.finish();
  } finally {
    await tracker.dispose();
  }
  return report('one tracker', samples, (span) => TRAJECTORY_BYTES_PER_FRAME * span, 'frames');
}

async function manyTrackers() {
  const samples = [await sample(0)];
  const everyTrackers = Math.max(1, Math.round(sampleEvery / framesPerTracker));
  for (let t = 1; t <= trackers; t++) {
    const tracker = await Tracker.create({ model: args.model, device: 'cpu', threads });
    try {
      await tracker.init(frameAt(t), targetBox(t));
      for (let k = 1; k < framesPerTracker; k++) await tracker.track(frameAt(t + k));
      await tracker.finish();
    } finally {
      await tracker.dispose();
    }
    if (t % everyTrackers === 0 || t === trackers) samples.push(await sample(t));
  }
  return report(`many trackers (${framesPerTracker} frames each)`, samples, () => 0, 'trackers');
}

const machine = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `soak (phase ${args.phase}): ${frames} frames through one tracker, then ${trackers} trackers × ${framesPerTracker} frames; ` +
    `model ${path.relative(root, args.model)}, threads ${threads}, ${machine}` +
    (globalThis.gc ? '' : ' (run with --expose-gc for steadier samples)'),
);
const phases = [];
if (args.phase !== 'many') phases.push(await oneTracker());
if (args.phase !== 'one') phases.push(await manyTrackers());
if (args.json) {
  writeFileSync(args.json, JSON.stringify({ machine, model: args.model, threads, phases }, null, 1));
}
process.exitCode = phases.every((p) => p.flat) ? 0 : 1;
