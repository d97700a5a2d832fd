/**
 * `sct-diff eval --dataset NAME --root DIR`: run the tracker over every sequence of a
 * benchmark, write per-sequence results in the benchmark's own format, print and save the
 * metrics table, and draw success and precision plots as PNG.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import { parseChoiceOption, parseCommandLine, parseIntegerOption, DEFAULT_SEED_TEXT, parseSeedOption, parseTemplateOptions, TEMPLATE_OPTIONS } from '../args.js';
import type { CommandContext } from '../context.js';
import { createCliTracker, trackerLog } from '../create-tracker.js';
import type { CliBenchmarkSequence, CliDatasetName, CliTracker } from '../dependencies.js';
import { drawCurvePlot } from '../plot.js';
import { Progress } from '../progress.js';
import { throwIfInterrupted } from '../interrupted.js';
import { UsageError } from '../usage-error.js';
import type { DeviceOption } from '../../engine/create.js';
import { evaluate } from '../../eval/evaluate.js';
import { OTB_PRECISION_THRESHOLDS, OTB_SUCCESS_THRESHOLDS } from '../../eval/otb.js';
import type { EvaluatedSequence } from '../../eval/types.js';
import type { Box } from '../../geometry/box.js';
import { IoError } from '../../io/errors.js';
import { openFrameFiles, openFrameFolder } from '../../io/frames-folder.js';
import { encodePng } from '../../io/png.js';
import { readSafetensorsHeader } from '../../io/safetensors-header.js';

/** Help text of `sct-diff eval`. */
export const EVAL_HELP = `Usage: sct-diff eval --dataset got10k|lasot|trackingnet|otb --root DIR [options]

Run the tracker over a benchmark stored in its standard layout and score it.

Options:
  --dataset NAME     got10k | lasot | trackingnet | otb (required).
  --root DIR         The benchmark's folder (required), e.g. .../GOT-10k/val.
  --out DIR          Output folder. Default: ./sct-diff-eval-<dataset>.
  --sequences A,B    Only these sequences (comma-separated names). Default: all.
  --model FILE       Model (.safetensors). Default: the package's bundled model.
  --device NAME      auto | cpu | cuda. Default: auto.
  --threads N        CPU threads, 0 = one per core. Default: 0.
  --stride N         Frames the window slides by. Default: 3 (the clip length if shorter).
  --latency MODE     window | frame, as for track. Default: window.
  --template-threshold X, --template-interval N
                     The dynamic template policy, as for track. Defaults: 0.3, 1.
  --seed N           Decoder noise seed, as for track. Default: ${DEFAULT_SEED_TEXT}.
  --quiet            No progress output.
  --verbose          Also log each window decode and template update.
  -h, --help         Show this help.

Writes into --out:
  results/           Per-sequence results in the benchmark's own format (for its toolkit or server).
  metrics.json       The metrics (and per-sequence numbers) of the benchmark's protocol.
  success.png        Success plot (fraction of frames with IoU above each threshold).
  precision.png      Precision plot (fraction of frames with centre error within each threshold).
Metrics: GOT-10k: AO, SR0.5, SR0.75 (got10k toolkit); LaSOT: success AUC, precision,
normalized precision (got10k toolkit); OTB: success AUC, precision@20px; TrackingNet: AUC,
precision, normalized precision (pytracking). Test splits whose ground truth holds only the
first frame get result files but no metrics (submit them to the benchmark's server).

Exit status: 0 success, 1 runtime failure (missing dataset, unreadable frames, model, engine),
2 usage error, 130 interrupted (result files of finished sequences are kept).
`;

const OPTIONS = {
  dataset: { type: 'string' },
  root: { type: 'string' },
  out: { type: 'string' },
  sequences: { type: 'string' },
  model: { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
  stride: { type: 'string' },
  latency: { type: 'string' },
  ...TEMPLATE_OPTIONS,
  seed: { type: 'string' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DATASETS = ['got10k', 'lasot', 'trackingnet', 'otb'] as const;

/** A metrics table row: name and formatted value. */
type MetricRow = [string, number];

function metricRows(dataset: CliDatasetName, sequences: EvaluatedSequence[]): { rows: MetricRow[]; result: unknown } {
  switch (dataset) {
    case 'got10k': {
      const r = evaluate(sequences, { protocol: 'got10k' });
      return { rows: [['AO', r.averageOverlap], ['SR0.5', r.successRate50], ['SR0.75', r.successRate75]], result: r };
    }
    case 'lasot': {
      const r = evaluate(sequences, { protocol: 'lasot' });
      return { rows: [['Success (AUC)', r.successScore], ['Precision', r.precision], ['Norm. precision', r.normalizedPrecision]], result: r };
    }
    case 'otb': {
      const r = evaluate(sequences, { protocol: 'otb' });
      return { rows: [['Success (AUC)', r.successScore], ['Precision', r.precision], ['Success rate 0.5', r.successRate]], result: r };
    }
    case 'trackingnet': {
      const r = evaluate(sequences, { protocol: 'pytracking' });
      return { rows: [['AUC', r.auc / 100], ['Precision', r.precision / 100], ['Norm. precision', r.normalizedPrecision / 100]], result: r };
    }
  }
}

/**
 * Track one sequence. With 'frame' latency each call is timed on its own; with 'window'
 * latency calls overlap, so the sequence's tracking time (decoding excluded) is spread evenly
 * over its frames.
 */
async function trackSequence(
  tracker: CliTracker,
  sequence: CliBenchmarkSequence,
  latency: 'frame' | 'window',
  progress: Progress,
  signal: AbortSignal | undefined,
): Promise<{ boxes: Box[]; times: number[]; width: number; height: number }> {
  const source = typeof sequence.frames === 'string' ? await openFrameFolder(sequence.frames) : await openFrameFiles(sequence.frames, sequence.name);
  const first = sequence.groundTruth[0];
  if (first === undefined) throw new IoError(`Expected a ground-truth box for the first frame of sequence "${sequence.name}" but received none`);
  const times: number[] = [];
  const clipLength = tracker.model.clipLength;
  const submitted: Array<Promise<unknown>> = [];
  const failures: unknown[] = [];
  let trackingSeconds = 0;
  let index = 0;
  for await (const frame of source) {
    throwIfInterrupted(signal);
    if (failures.length > 0) throw failures[0];
    const started = performance.now();
    if (index === 0) await tracker.init(frame, first);
    else if (latency === 'frame') await tracker.track(frame);
    else {
      // Bound the frames queued in the tracker (frame index − N's window ends by index − 1).
      await submitted[index - clipLength];
      submitted[index] = tracker.track(frame).catch((error: unknown) => failures.push(error));
      delete submitted[index - clipLength];
    }
    const seconds = (performance.now() - started) / 1000;
    times.push(seconds);
    trackingSeconds += seconds;
    index++;
    progress.tick();
  }
  const started = performance.now();
  const trajectory = await tracker.finish();
  await Promise.all(submitted.filter(Boolean));
  if (failures.length > 0) throw failures[0];
  const finishSeconds = (performance.now() - started) / 1000;
  if (latency === 'window') {
    times.fill((trackingSeconds + finishSeconds) / Math.max(1, times.length));
  } else if (times.length > 0) {
    // finish() decodes the last partial window; charge its time to the last frame.
    times[times.length - 1]! += finishSeconds;
  }
  return { boxes: trajectory.map((t) => t.box), times, width: source.info.width, height: source.info.height };
}

function formatTable(dataset: string, rows: MetricRow[], sequenceCount: number): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return [`${dataset}: ${sequenceCount} sequences`, ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value.toFixed(4)}`)].join('\n') + '\n';
}

/** Run `sct-diff eval`; returns the exit status. */
export async function evalCommand({ argv, io, deps, signal }: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine('eval', argv, OPTIONS);
  if (values.help) {
    io.stdout.write(EVAL_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Expected no positional arguments but received "${positionals[0]}"`, 'eval');
  if (values.dataset === undefined) throw new UsageError(`Expected --dataset (${DATASETS.join(', ')}) but received none`, 'eval');
  const dataset = parseChoiceOption(values.dataset as string, 'dataset', 'eval', DATASETS) as CliDatasetName;
  if (typeof values.root !== 'string') throw new UsageError('Expected --root DIR (the benchmark folder) but received none', 'eval');
  const root = values.root;
  const device: DeviceOption = parseChoiceOption(values.device as string | undefined, 'device', 'eval', ['auto', 'cpu', 'cuda'] as const) ?? 'auto';
  const threads = parseIntegerOption(values.threads as string | undefined, 'threads', 'eval', 0) ?? 0;
  const stride = parseIntegerOption(values.stride as string | undefined, 'stride', 'eval', 1);
  const latency = parseChoiceOption(values.latency as string | undefined, 'latency', 'eval', ['frame', 'window'] as const) ?? 'window';
  const templatePolicy = parseTemplateOptions(values, 'eval');
  const seed = parseSeedOption(values.seed as string | undefined, 'eval');
  const outDir = (values.out as string | undefined) ?? `sct-diff-eval-${dataset}`;
  const only = typeof values.sequences === 'string' ? new Set(values.sequences.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
  const modelPath = values.model as string | undefined;

  if (!deps.benchmarks) {
    io.stderr.write('sct-diff eval: this build has no benchmark dataset readers yet (lib/eval); nothing was run.\n');
    return 1;
  }
  let sequences = await deps.benchmarks.readSequences(dataset, root);
  if (only) {
    const unknown = [...only].filter((name) => !sequences.some((s) => s.name === name));
    if (unknown.length > 0) throw new UsageError(`Expected --sequences to name sequences of ${dataset} under "${root}" but received unknown "${unknown.join('", "')}"`, 'eval');
    sequences = sequences.filter((s) => only.has(s.name));
  }
  // A reader lists every image of a folder; sequences that annotate only part of it (a few
  // OTB ones start at a later frame) cannot be aligned without the benchmark's frame ranges.
  const unaligned = sequences.filter((s) => typeof s.frames !== 'string' && s.groundTruth.length > 1 && s.groundTruth.length !== s.frames.length);
  if (unaligned.length > 0) {
    io.stderr.write(`sct-diff eval: skipping ${unaligned.length} sequences whose annotation does not cover every frame: ${unaligned.map((s) => s.name).join(', ')}\n`);
    sequences = sequences.filter((s) => !unaligned.includes(s));
  }
  if (sequences.length === 0) throw new IoError(`Expected ${dataset} sequences under "${root}" but found none`, { path: root });
  if (modelPath !== undefined) await readSafetensorsHeader(modelPath);

  const resultsDir = join(outDir, 'results');
  try {
    await mkdir(resultsDir, { recursive: true });
  } catch (cause) {
    throw new IoError(`Could not create the output folder "${resultsDir}"`, { path: resultsDir, cause });
  }
  const tracker = await createCliTracker(deps, { model: modelPath, device, threads, stride, latency, ...templatePolicy, seed, log: trackerLog(io, 'eval', values.verbose === true) }, 'eval');
  const evaluated: EvaluatedSequence[] = [];
  let withoutGroundTruth = 0;
  const total = sequences.reduce((sum, s) => sum + (typeof s.frames === 'string' ? s.groundTruth.length : s.frames.length), 0);
  const progress = new Progress(io.stderr, { label: 'eval', total, quiet: values.quiet === true });
  try {
    for (const sequence of sequences) {
      const { boxes, times, width, height } = await trackSequence(tracker, sequence, latency, progress, signal);
      await deps.benchmarks.writeResults(dataset, resultsDir, sequence, boxes, times);
      if (sequence.groundTruth.length === boxes.length) {
        evaluated.push({
          name: sequence.name,
          groundTruth: sequence.groundTruth,
          predictions: boxes,
          times,
          imageSize: { width, height },
          ...(sequence.visible ? { visible: sequence.visible } : {}),
          ...(sequence.cover ? { cover: sequence.cover } : {}),
        });
      } else if (sequence.groundTruth.length === 1) {
        withoutGroundTruth++;
      } else {
        throw new IoError(`Expected ${boxes.length} ground-truth boxes for sequence "${sequence.name}" (one per frame) but received ${sequence.groundTruth.length}`);
      }
    }
  } finally {
    progress.end();
    await tracker.dispose();
  }

  if (evaluated.length === 0) {
    io.stdout.write(`${dataset}: results for ${withoutGroundTruth} sequences written to ${resultsDir}; the ground truth holds only first frames, so no metrics (submit the results to the benchmark's server).\n`);
    return 0;
  }
  const { rows, result } = metricRows(dataset, evaluated);
  // Both plots use the OTB toolkit's curves (21 IoU thresholds, 0–50 px), the usual figures.
  const curves = evaluate(evaluated, { protocol: 'otb' });
  await writeFileAtomic(join(outDir, 'metrics.json'), `${JSON.stringify({ dataset, sequences: evaluated.length, metrics: Object.fromEntries(rows), result }, null, 2)}\n`);
  const success = drawCurvePlot({
    title: `Success plot - ${dataset}`,
    xLabel: 'Overlap threshold',
    yLabel: 'Success rate',
    thresholds: OTB_SUCCESS_THRESHOLDS,
    curves: [{ label: `SCT-Diff [${curves.successScore.toFixed(3)}]`, values: curves.successCurve }],
  });
  const precision = drawCurvePlot({
    title: `Precision plot - ${dataset}`,
    xLabel: 'Location error threshold (px)',
    yLabel: 'Precision',
    thresholds: OTB_PRECISION_THRESHOLDS,
    curves: [{ label: `SCT-Diff [${curves.precision.toFixed(3)}]`, values: curves.precisionCurve }],
    legend: 'lower-right',
  });
  await writeFileAtomic(join(outDir, 'success.png'), encodePng(success));
  await writeFileAtomic(join(outDir, 'precision.png'), encodePng(precision));
  io.stdout.write(formatTable(dataset, rows, evaluated.length));
  if (withoutGroundTruth > 0) io.stdout.write(`  (${withoutGroundTruth} sequences without full ground truth were tracked but not scored)\n`);
  io.stdout.write(`Results, metrics.json, success.png and precision.png in ${outDir}\n`);
  return 0;
}
