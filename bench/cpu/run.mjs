#!/usr/bin/env node
/**
 * `npm run bench:cpu`: the native CPU engine vs the PyTorch reference on the same tiny
 * weights, frames, crops, prior tokens and timesteps, with the same thread count.
 *
 * One step = what the tracker does per stride of 3 frames: preprocess + encode 3 new frames,
 * then decode a window of 6. Runs are interleaved (engine, reference, engine, ...) so that both
 * see the same background load, and medians are reported. Prints a Markdown table.
 *
 *   node bench/cpu/run.mjs [--threads 2] [--rounds 3] [--engine-steps 20] [--ref-steps 2]
 *                          [--scan sequential,sequential+passive,chunked] [--json out.json]
 *
 * --scan lists the reference configurations: the selective-scan form ("sequential" or
 * "chunked"), optionally "+passive" to run PyTorch with OMP_WAIT_POLICY=PASSIVE (its OpenMP
 * workers then sleep instead of spinning between parallel regions, which matters a lot on a
 * machine whose cores are shared).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const python = process.env.PYTHON ?? '/usr/bin/python3';
const cache = path.join(root, 'node_modules/.cache');
const buildDir = process.env.SCTDIFF_NATIVE_BUILD ?? path.join(cache, 'sctdiff-native');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const threads = Number(option('threads', '2'));
const rounds = Number(option('rounds', '3'));
const engineSteps = Number(option('engine-steps', '20'));
const refSteps = Number(option('ref-steps', '2'));
const scans = option('scan', 'sequential,sequential+passive,chunked').split(',');
const jsonOut = option('json', '');

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, env });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  }
  return result.stdout;
}

// Fixed tiny weights + inputs, written once by the reference's golden writer.
const goldens = path.join(cache, 'sctdiff-bench', 'goldens-tiny-seed1');
if (!existsSync(path.join(goldens, 'manifest.json'))) {
  mkdirSync(path.dirname(goldens), { recursive: true });
  console.error('writing tiny weights and inputs with training/make_goldens.py ...');
  run(python, [path.join(root, 'training/make_goldens.py'), '--seed', '1', '--out', goldens]);
}

console.error('building bench_cpu ...');
execFileSync('cmake', ['-S', path.join(root, 'native'), '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release'], { stdio: 'ignore' });
execFileSync('cmake', ['--build', buildDir, '-j', String(os.availableParallelism()), '--target', 'bench_cpu'], { stdio: ['ignore', 2, 2] });

const samples = new Map();
function collect(result) {
  const key = result.engine;
  const entry = samples.get(key) ?? { engine: key, step: [], encode: [], decode: [], cpu: [] };
  entry.step.push(...result.step_ms);
  entry.encode.push(...result.encode_ms);
  entry.decode.push(...result.decode_ms);
  entry.cpu.push(...result.cpu_ms);
  samples.set(key, entry);
}

for (let round = 0; round < rounds; round++) {
  console.error(`round ${round + 1}/${rounds}`);
  collect(JSON.parse(run(path.join(buildDir, 'bench_cpu'), [goldens, String(threads), String(engineSteps), '3'])));
  for (const entry of scans) {
    const [scan, mode] = entry.split('+');
    const env = mode === 'passive' ? { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } : process.env;
    const result = JSON.parse(run(python, [path.join(root, 'bench/cpu/bench_reference.py'), goldens, String(threads), String(refSteps), '1', scan], env));
    if (mode === 'passive') result.engine += ', OMP_WAIT_POLICY=PASSIVE';
    collect(result);
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const rows = [...samples.values()].map((s) => ({
  engine: s.engine,
  steps: s.step.length,
  stepMs: median(s.step),
  encodeMs: median(s.encode),
  decodeMs: median(s.decode),
  cpuMs: median(s.cpu),
  fps: 3000 / median(s.step),
}));
const engineRow = rows.find((r) => r.engine.startsWith('sct-diff'));
const fastestReference = rows.filter((r) => r !== engineRow).sort((a, b) => a.stepMs - b.stepMs)[0];

const cpuModel = (() => {
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('Model name'));
    return line ? line.split(':')[1].trim() : os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
})();

const fmt = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
console.log(`\nCPU: ${cpuModel}, ${os.cpus().length} logical CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`Config tiny, ${threads} threads, ${rounds} interleaved rounds; medians over all timed steps.`);
console.log('One step = preprocess + encode 3 new frames + decode a window of 6 (stride 3).\n');
console.log('| engine | steps | step ms | encode ms | decode ms | CPU ms/step | frames/s |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(`| ${r.engine} | ${r.steps} | ${fmt(r.stepMs)} | ${fmt(r.encodeMs)} | ${fmt(r.decodeMs)} | ${fmt(r.cpuMs)} | ${fmt(r.fps)} |`);
}
if (engineRow && fastestReference) {
  console.log(`\nspeed-up of the engine over the fastest reference (${fastestReference.engine}): ${(fastestReference.stepMs / engineRow.stepMs).toFixed(1)}x per step`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ cpuModel, threads, rounds, rows, loadavg: os.loadavg() }, null, 2));
