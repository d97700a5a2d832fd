/**
 * `sct-diff track <video | frames-folder> --box x,y,w,h`: follow the object, write the boxes
 * as JSON and/or an annotated video whose every frame shows the box's final (revised) value.
 */
import { writeFileAtomic } from '../atomic-file.js';
import { parseBoxOption, parseChoiceOption, parseCommandLine, parseIntegerOption, parsePositiveNumberOption, DEFAULT_SEED_TEXT, parseSeedOption, parseTemplateOptions, TEMPLATE_OPTIONS } from '../args.js';
import type { CommandContext } from '../context.js';
import { createCliTracker, trackerLog } from '../create-tracker.js';
import type { CliTracker, CliTrackedFrame } from '../dependencies.js';
import { FrameDelayQueue, type DelayedFrame } from '../frame-delay.js';
import { Progress } from '../progress.js';
import { throwIfInterrupted } from '../interrupted.js';
import { UsageError } from '../usage-error.js';
import { boxIntersectsImage, type Box } from '../../geometry/box.js';
import { drawBox } from '../../io/draw.js';
import { openFrames } from '../../io/open-frames.js';
import { readSafetensorsHeader } from '../../io/safetensors-header.js';
import { VideoWriter } from '../../io/video-writer.js';
import type { DeviceOption } from '../../engine/create.js';

/** Help text of `sct-diff track`. */
export const TRACK_HELP = `Usage: sct-diff track <video | frames-folder> --box x,y,w,h [options]

Follow one object through a video file (anything ffmpeg reads) or a folder of numbered
images (.jpg, .jpeg, .png, .bmp). The box is the object in the first frame, in pixels:
left, top, width, height.

Options:
  --box x,y,w,h        Target in the first frame (required).
  --out FILE           Write an annotated video (.mp4, .m4v, .mov, .mkv, .avi) showing each
                       frame's final box and score.
  --json FILE          Write per-frame boxes: [{"frame", "box": [x,y,w,h], "score",
                       "revised"}]; "revised" is true when a later window changed the box.
  --model FILE         Model (.safetensors). Default: the package's bundled model.
  --device NAME        auto | cpu | cuda. Default: auto (CUDA when available, else CPU).
  --threads N          CPU threads, 0 = one per core. Default: 0.
  --stride N           Frames the window slides by (1 … clip length). Default: 3, or the clip length if shorter.
  --latency MODE       window: one decoder call per stride frames (fastest offline);
                       frame: a provisional box for every frame first, as a live feed
                       would get (one decoder call per frame). Default: window.
  --template-threshold X
                       Minimum frame score (0..1) for a frame to become the dynamic
                       template; above 1: never update. Default: 0.3 (docs/tracking.md).
  --template-interval N
                       Minimum frames between dynamic-template frames. Default: 1.
  --seed N             Decoder noise seed (0 … 2^64 − 1, decimal or 0x-hex); the same seed gives the same
                       boxes. Default: ${DEFAULT_SEED_TEXT} (docs/tracking.md, "Noise seeds").
  --fps N              Frame rate of --out. Default: the input's, else 30.
  --quiet              No progress output.
  --verbose            Also log each window decode and template update.
  -h, --help           Show this help.

Without --out and --json the boxes are printed to stdout as JSON.
Exit status: 0 success, 1 runtime failure (unreadable input, model, engine), 2 usage error
(bad options, a box that does not overlap the first frame). 130: interrupted.
`;

const OPTIONS = {
  box: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'string' },
  model: { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
  stride: { type: 'string' },
  latency: { type: 'string' },
  ...TEMPLATE_OPTIONS,
  seed: { type: 'string' },
  fps: { type: 'string' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** One line of the --json output. */
export interface TrackJsonEntry {
  /** Frame index, 0 = first frame. */
  frame: number;
  /** [x, y, width, height] in pixels. */
  box: [number, number, number, number];
  /** Confidence 0..1 (1 for the given first box). */
  score: number;
  /** Whether a later window changed this frame's box after it was first reported. */
  revised: boolean;
}

function describeBox(b: Box): string {
  return `${b.x},${b.y},${b.width},${b.height}`;
}

/** Run `sct-diff track`; returns the exit status. */
export async function trackCommand({ argv, io, deps, signal }: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine('track', argv, OPTIONS);
  if (values.help) {
    io.stdout.write(TRACK_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`Expected one video file or frames folder but received ${positionals.length === 0 ? 'none' : positionals.length}`, 'track');
  }
  const input = positionals[0] as string;
  if (typeof values.box !== 'string') throw new UsageError('Expected --box x,y,w,h (the target in the first frame) but received none', 'track');
  const box = parseBoxOption(values.box, 'track');
  const device: DeviceOption = parseChoiceOption(values.device as string | undefined, 'device', 'track', ['auto', 'cpu', 'cuda'] as const) ?? 'auto';
  const threads = parseIntegerOption(values.threads as string | undefined, 'threads', 'track', 0) ?? 0;
  const stride = parseIntegerOption(values.stride as string | undefined, 'stride', 'track', 1);
  const latency = parseChoiceOption(values.latency as string | undefined, 'latency', 'track', ['frame', 'window'] as const) ?? 'window';
  const templatePolicy = parseTemplateOptions(values, 'track');
  const seed = parseSeedOption(values.seed as string | undefined, 'track');
  const fpsOption = parsePositiveNumberOption(values.fps as string | undefined, 'fps', 'track');
  const outPath = values.out as string | undefined;
  const jsonPath = values.json as string | undefined;
  const modelPath = values.model as string | undefined;

  const source = await openFrames(input);
  const { width, height } = source.info;
  if (!boxIntersectsImage(box, width, height)) {
    throw new UsageError(`Expected --box to overlap the ${width}x${height} first frame but received ${describeBox(box)}`, 'track');
  }
  // Check the model file up front: a clear "does not exist" beats a failure deep in the engine.
  if (modelPath !== undefined) await readSafetensorsHeader(modelPath);

  const tracker: CliTracker = await createCliTracker(deps, { model: modelPath, device, threads, stride, latency, ...templatePolicy, seed, log: trackerLog(io, 'track', values.verbose === true) }, 'track');
  let writer: VideoWriter | undefined;
  try {
    if (outPath !== undefined) writer = await VideoWriter.open(outPath, { width, height, fps: fpsOption ?? source.info.fps ?? 30 });
    const progress = new Progress(io.stderr, { label: 'track', ...(source.info.frameCount === undefined ? {} : { total: source.info.frameCount }), quiet: values.quiet === true });
    const latest = new Map<number, CliTrackedFrame>();
    const revisedFrames = new Set<number>();
    const clipLength = tracker.model.clipLength;
    let newestResult = 0;
    const record = (result: CliTrackedFrame & { revised: CliTrackedFrame[] }): void => {
      latest.set(result.frameIndex, { frameIndex: result.frameIndex, box: result.box, score: result.score });
      for (const revision of result.revised) {
        latest.set(revision.frameIndex, revision);
        revisedFrames.add(revision.frameIndex);
      }
      newestResult = Math.max(newestResult, result.frameIndex);
    };
    // A frame's box is final once every window containing it has been decoded: windows are
    // N = clipLength frames long and decoded in order, so once a result for frame m has
    // arrived, every frame up to m − (N − 1) is final. Only then is it drawn and written.
    const queue = new FrameDelayQueue();
    const emit = async (released: DelayedFrame[]): Promise<void> => {
      if (!writer) return;
      for (const { index, frame } of released) {
        const estimate = latest.get(index);
        if (estimate) drawBox(frame, estimate.box, { thickness: Math.max(2, Math.round(Math.min(width, height) / 200)), label: estimate.score.toFixed(2) });
        await writer.write(frame);
      }
    };
    // 'window' latency: results arrive when a frame's window is decoded, so calls are not
    // awaited one by one. A failure is kept and rethrown at the next frame.
    const submitted: Array<Promise<void>> = [];
    const trackFailures: unknown[] = [];

    let index = 0;
    for await (const frame of source) {
      throwIfInterrupted(signal);
      if (trackFailures.length > 0) throw trackFailures[0];
      if (index === 0) {
        await tracker.init(frame, box);
        latest.set(0, { frameIndex: 0, box, score: 1 });
      } else if (latency === 'frame') {
        record(await tracker.track(frame));
      } else {
        // Bound the frames queued inside the tracker: frame index − N's window ends at most at
        // index − 1, which has been submitted, so this wait always ends.
        await submitted[index - clipLength];
        if (trackFailures.length > 0) throw trackFailures[0];
        submitted[index] = tracker.track(frame).then(record, (error: unknown) => {
          trackFailures.push(error);
        });
        delete submitted[index - clipLength];
      }
      if (writer) {
        queue.push(index, frame);
        await emit(queue.releaseThrough(newestResult - (clipLength - 1)));
      }
      index++;
      progress.tick();
    }
    if (index === 0) throw new UsageError(`Expected at least one frame in "${input}" but received none`, 'track');
    const final = await tracker.finish();
    await Promise.all(submitted.filter(Boolean));
    if (trackFailures.length > 0) throw trackFailures[0];
    for (const estimate of final) {
      const before = latest.get(estimate.frameIndex);
      if (before && (before.box.x !== estimate.box.x || before.box.y !== estimate.box.y || before.box.width !== estimate.box.width || before.box.height !== estimate.box.height)) {
        revisedFrames.add(estimate.frameIndex);
      }
      latest.set(estimate.frameIndex, estimate);
    }
    await emit(queue.drain());
    progress.end();
    if (writer) {
      await writer.close();
      writer = undefined;
    }
    const entries: TrackJsonEntry[] = final.map((e) => ({
      frame: e.frameIndex,
      box: [e.box.x, e.box.y, e.box.width, e.box.height],
      score: e.score,
      revised: revisedFrames.has(e.frameIndex),
    }));
    // One frame per line: readable, and line-oriented tools (grep, head) work on it.
    const json = `[\n${entries.map((entry) => JSON.stringify(entry)).join(',\n')}\n]\n`;
    if (jsonPath !== undefined) await writeFileAtomic(jsonPath, json);
    if (outPath === undefined && jsonPath === undefined) io.stdout.write(json);
    else {
      io.stdout.write(
        `Tracked ${final.length} frames on ${tracker.backend} at ${progress.rate.toFixed(1)} fps; ${revisedFrames.size} boxes revised.` +
          `${outPath ? ` Video: ${outPath}.` : ''}${jsonPath ? ` Boxes: ${jsonPath}.` : ''}\n`,
      );
    }
    return 0;
  } finally {
    await writer?.abort();
    await tracker.dispose();
  }
}
