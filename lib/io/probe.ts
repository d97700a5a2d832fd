/** Video metadata from ffprobe: size, frame rate, frame count and duration. */
import { ffmpegPrograms, runToCompletion } from './ffmpeg.js';
import { IoError } from './errors.js';

/** What ffprobe tells about the first video stream of a file. */
export interface VideoMetadata {
  /** Frame width in pixels. */
  width: number;
  /** Frame height in pixels. */
  height: number;
  /** Frames per second (average rate), or undefined when the file does not say. */
  fps: number | undefined;
  /** Number of frames when the container records it (mp4 does), else undefined. */
  frameCount: number | undefined;
  /** Duration in seconds when known. */
  durationSeconds: number | undefined;
  /** Codec name, e.g. "h264". */
  codec: string;
}

function parseRate(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const [numerator, denominator] = text.split('/').map(Number);
  if (numerator === undefined || !Number.isFinite(numerator) || numerator <= 0) return undefined;
  const rate = denominator === undefined ? numerator : numerator / denominator;
  return Number.isFinite(rate) && rate > 0 ? rate : undefined;
}

function parsePositive(text: unknown): number | undefined {
  const value = typeof text === 'string' || typeof text === 'number' ? Number(text) : NaN;
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * Read the first video stream's metadata with ffprobe.
 * @throws IoError when the file is missing, unreadable, or has no video stream (with
 *   ffprobe's message).
 */
export async function probeVideo(path: string): Promise<VideoMetadata> {
  const { ffprobe } = ffmpegPrograms();
  const run = await runToCompletion(ffprobe, [
    '-v', 'error',
    '-select_streams', 'v:0',
    '-show_entries', 'stream=width,height,avg_frame_rate,r_frame_rate,nb_frames,duration,codec_name:format=duration',
    '-of', 'json',
    path,
  ]);
  if (run.code !== 0) {
    throw new IoError(`Could not read video "${path}": ffprobe failed`, { path, stderrTail: run.stderr });
  }
  let parsed: { streams?: Array<Record<string, unknown>>; format?: Record<string, unknown> };
  try {
    parsed = JSON.parse(run.stdout.toString('utf8')) as typeof parsed;
  } catch (cause) {
    throw new IoError(`Could not read video "${path}": ffprobe printed output that is not JSON`, { path, cause });
  }
  const stream = parsed.streams?.[0];
  const width = stream?.width;
  const height = stream?.height;
  if (stream === undefined || typeof width !== 'number' || typeof height !== 'number' || width <= 0 || height <= 0) {
    throw new IoError(`Could not read video "${path}": it has no video stream with a known frame size`, { path, stderrTail: run.stderr });
  }
  const frameCount = parsePositive(stream.nb_frames);
  return {
    width,
    height,
    fps: parseRate(stream.avg_frame_rate) ?? parseRate(stream.r_frame_rate),
    frameCount: frameCount === undefined ? undefined : Math.round(frameCount),
    durationSeconds: parsePositive(stream.duration) ?? parsePositive(parsed.format?.duration),
    codec: typeof stream.codec_name === 'string' ? stream.codec_name : 'unknown',
  };
}
