/** Video metadata from ffprobe: size, frame rate, frame count and duration. */
import { ffmpegPrograms, runToCompletion } from './ffmpeg.js';
import { IoError } from './errors.js';

/** What ffprobe tells about the first video stream of a file. */
export interface VideoMetadata {
  /** Width of the decoded frames in pixels, after the file's rotation (as players show it). */
  width: number;
  /** Height of the decoded frames in pixels, after the file's rotation. */
  height: number;
  /** Display rotation stored in the file, degrees (0, 90, 180, 270); frames come out upright. */
  rotation: number;
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

/** The stream's display rotation in degrees, normalized to 0, 90, 180 or 270. */
function readRotation(stream: Record<string, unknown>): number {
  const sideData = Array.isArray(stream.side_data_list) ? (stream.side_data_list as Array<Record<string, unknown>>) : [];
  const fromSideData = sideData.map((entry) => Number(entry.rotation)).find((value) => Number.isFinite(value));
  const tags = typeof stream.tags === 'object' && stream.tags !== null ? (stream.tags as Record<string, unknown>) : {};
  const fromTag = Number(tags.rotate);
  const degrees = fromSideData ?? (Number.isFinite(fromTag) ? fromTag : 0);
  return (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
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
    '-show_entries', 'stream=width,height,avg_frame_rate,r_frame_rate,nb_frames,duration,codec_name:stream_tags=rotate:stream_side_data=rotation:format=duration',
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
  const rotation = readRotation(stream);
  // ffmpeg rotates frames upright while decoding, so a quarter turn swaps the frame's sides.
  const quarterTurn = rotation === 90 || rotation === 270;
  return {
    width: quarterTurn ? height : width,
    height: quarterTurn ? width : height,
    rotation,
    fps: parseRate(stream.avg_frame_rate) ?? parseRate(stream.r_frame_rate),
    frameCount: frameCount === undefined ? undefined : Math.round(frameCount),
    durationSeconds: parsePositive(stream.duration) ?? parsePositive(parsed.format?.duration),
    codec: typeof stream.codec_name === 'string' ? stream.codec_name : 'unknown',
  };
}
