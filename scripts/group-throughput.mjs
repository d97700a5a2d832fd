// Frames per second of N trackers running at once, each on its own engine vs all on one
// EngineGroup (one engine that batches the calls of streams queued together), for
// docs/performance.md "Many trackers on one engine". Uses the built package (dist/, `npm run build`).
//
//   node scripts/group-throughput.mjs --model tiny.safetensors [--streams 1,4,8] [--frames 12]
//        [--threads 2] [--repeats 2] [--device cpu|cuda|auto]
//
// A random tiny model: /usr/bin/python3 training/export.py --config tiny --random-seed 0 --out
// /tmp/tiny.safetensors. Every stream is a Tracker with the default options (stride 3, 'frame'
// latency: an encode and a decode per frame) on its own synthetic 320×240 video; all streams
// track concurrently, each awaiting its own calls. Timed: --frames track() calls per stream after
// init and 2 warm-up frames. Engines: each engine gets --threads threads (N engines share the
// cores); group: one engine with --threads threads. Prints one JSON line per (mode, streams),
// the best of --repeats, with the group's batch sizes and the backend that ran. --device (default
// cpu) applies to both modes: on a GPU host, cuda compares N CUDA engines with one CUDA group.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    streams: { type: 'string', default: '1,4,8' },
    frames: { type: 'string', default: '12' },
    threads: { type: 'string', default: '2' },
    repeats: { type: 'string', default: '2' },
    device: { type: 'string', default: 'cpu' },
  },
});
if (args.model === undefined) throw new TypeError('Expected --model <file.safetensors> but received none');
const streamCounts = args.streams.split(',').map(Number);
const frames = Number(args.frames);
const threads = Number(args.threads);
const repeats = Number(args.repeats);
const device = args.device;
if (!['cpu', 'cuda', 'auto'].includes(device)) throw new TypeError(`Expected --device cpu, cuda or auto but received ${device}`);
const { EngineGroup, Tracker } = await import(path.join(root, 'dist/index.js'));

function frame(video, index, width = 320, height = 240) {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * (31 + video) + index * 17 + video * 101) & 255;
  return { data, width, height, format: 'rgb' };
}

async function runStreams(trackers) {
  await Promise.all(trackers.map((tracker, v) => tracker.init(frame(v, 0), { x: 140, y: 100, width: 40, height: 30 })));
  await Promise.all(trackers.map(async (tracker, v) => {
    for (let k = 1; k <= 2; k++) await tracker.track(frame(v, k));
  }));
  const start = process.hrtime.bigint();
  await Promise.all(trackers.map(async (tracker, v) => {
    for (let k = 3; k < 3 + frames; k++) await tracker.track(frame(v, k));
  }));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

for (const n of streamCounts) {
  for (const mode of ['engines', 'group']) {
    let best = Infinity;
    let batches = {};
    let backend = '';
    for (let r = 0; r < repeats; r++) {
      const group = mode === 'group' ? await EngineGroup.create({ model: args.model, device, threads }) : undefined;
      const trackers = await Promise.all(Array.from({ length: n }, () =>
        group ? Tracker.create({ group }) : Tracker.create({ model: args.model, device, threads })));
      group?._debugBatches();
      backend = trackers[0].backend;
      const seconds = await runStreams(trackers);
      if (seconds < best) {
        best = seconds;
        batches = {};
        for (const b of group?._debugBatches() ?? []) {
          const key = `${b.kind}:${b.size}`;
          batches[key] = (batches[key] ?? 0) + 1;
        }
      }
      await Promise.all(trackers.map((t) => t.dispose()));
      await group?.dispose();
    }
    console.log(JSON.stringify({
      mode, backend, streams: n, threads, framesPerStream: frames,
      seconds: Number(best.toFixed(3)),
      fps: Number(((n * frames) / best).toFixed(1)),
      msPerFramePerStream: Number(((best / frames) * 1000).toFixed(1)),
      ...(mode === 'group' ? { batches } : {}),
    }));
  }
}
