// Resident memory of N trackers on one model, for docs/performance.md "Memory per tracker".
// Uses the built package (dist/, `npm run build`) and the addon it loads.
//
//   node --expose-gc scripts/trackers-memory.mjs --model tiny.safetensors [--trackers 8]
//        [--threads 1] [--frames 6]
//
// A random tiny model for it: /usr/bin/python3 training/export.py --config tiny --random-seed 0
// --out /tmp/tiny.safetensors. The trackers are created together (Promise.all, so their engines
// load the model at the same time on their own worker threads), each initialized and fed
// --frames frames so every engine has allocated its activations, then disposed. Prints one JSON
// line: RSS in MB after loading the addon, with all trackers alive, and after disposing them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    trackers: { type: 'string', default: '8' },
    threads: { type: 'string', default: '1' },
    frames: { type: 'string', default: '6' },
  },
});
if (args.model === undefined) throw new TypeError('Expected --model <file.safetensors> but received none');
const trackerCount = Number(args.trackers);
const frameCount = Number(args.frames);
if (!Number.isInteger(trackerCount) || trackerCount < 1) {
  throw new RangeError(`Expected a positive integer for --trackers but received ${args.trackers}`);
}
if (typeof globalThis.gc !== 'function') throw new Error('Expected node --expose-gc but gc() is not exposed');

const { Tracker, inspectModel } = await import(path.join(root, 'dist/index.js'));
const MB = 1024 * 1024;

/** RSS after two collections, so finalized JS objects are not counted. */
async function settledRssMb() {
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  globalThis.gc();
  return Number((process.memoryUsage().rss / MB).toFixed(1));
}

function frame(index, width = 320, height = 240) {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + index * 17) & 255;
  return { data, width, height, format: 'rgb' };
}

// Loads the addon (and the libraries it links) before the baseline.
inspectModel(args.model);
const baseline = await settledRssMb();
const trackers = await Promise.all(
  Array.from({ length: trackerCount }, () => Tracker.create({ model: args.model, device: 'cpu', threads: Number(args.threads) })),
);
for (const tracker of trackers) {
  await tracker.init(frame(0), { x: 140, y: 100, width: 40, height: 30 });
  for (let k = 1; k <= frameCount; k++) await tracker.track(frame(k));
}
const alive = await settledRssMb();
await Promise.all(trackers.map((tracker) => tracker.dispose()));
const disposed = await settledRssMb();
const modelMb = Number((readFileSync(args.model).length / MB).toFixed(1));
console.log(
  JSON.stringify({
    model: path.basename(args.model),
    modelFileMb: modelMb,
    trackers: trackerCount,
    threads: Number(args.threads),
    rssMb: { baseline, alive, disposed },
    perTrackerMb: Number(((alive - baseline) / trackerCount).toFixed(1)),
  }),
);
