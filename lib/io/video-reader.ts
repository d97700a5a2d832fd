/** Reading a video file as a stream of rgb frames through ffmpeg. */
import { stat } from 'node:fs/promises';
import { InvalidArgumentError } from '../errors.js';
import type { Frame, PixelFormat } from '../engine/types.js';
import { describeReceived } from '../geometry/describe.js';
import { IoError } from './errors.js';
import { probeVideo, type VideoMetadata } from './probe.js';
import { decodeRawFrames } from './raw-decoder.js';

/** Size and timing of a frame source (video file or frames folder). */
export interface FrameSourceInfo {
  /** Frame width in pixels. */
  width: number;
  /** Frame height in pixels. */
  height: number;
  /** Frames per second, when known. */
  fps: number | undefined;
  /** Number of frames, when known before decoding. */
  frameCount: number | undefined;
}

/**
 * Frames from a video file or an image folder. Iterate with `for await`; each iteration
 * decodes from the start with its own ffmpeg process, which is stopped when the loop ends
 * (also by `break` or an exception).
 */
export interface FrameSource extends AsyncIterable<Frame> {
  /** The file or folder. */
  readonly path: string;
  /** Size and timing. */
  readonly info: FrameSourceInfo;
}

/** A video file opened with {@link openVideo}. */
export interface VideoSource extends FrameSource {
  /** Everything ffprobe reported. */
  readonly metadata: VideoMetadata;
}

/** Options of {@link openVideo}. */
export interface OpenVideoOptions {
  /**
   * Fail on the first decoding error (ffmpeg `-xerror`) instead of skipping damaged packets.
   * Default: true, so a truncated or corrupt file gives an error rather than fewer frames.
   */
  strict?: boolean;
  /** Pixel layout of the frames ('bgr' suits OpenCV). Default: 'rgb'. */
  format?: PixelFormat;
}

/**
 * Check a requested pixel format.
 * @throws InvalidArgumentError for anything but 'rgb', 'bgr', 'rgba', 'gray'.
 */
export function requirePixelFormat(format: unknown): PixelFormat {
  if (format !== 'rgb' && format !== 'bgr' && format !== 'rgba' && format !== 'gray') {
    throw new InvalidArgumentError(`Expected format 'rgb', 'bgr', 'rgba' or 'gray' but received ${describeReceived(format)}`);
  }
  return format;
}

/** Fail with an IoError unless `path` is an existing file or (when `folder`) folder. */
export async function requireExisting(path: string, kind: 'file' | 'folder'): Promise<void> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (cause) {
    throw new IoError(`Could not open "${path}": no such ${kind}`, { path, cause });
  }
  if (isFolder !== (kind === 'folder')) {
    throw new IoError(`Expected a ${kind} at "${path}" but received a ${isFolder ? 'folder' : 'file'}`, { path });
  }
}

/**
 * Open a video file: probe it now, decode on iteration. Frames are rgb (or `options.format`), one fresh
 * `Buffer` each (keep them as long as you like); memory stays constant however long the video.
 * @throws IoError when the file is missing or not a readable video (now), or when decoding
 *   fails, e.g. a truncated file (during iteration), with ffmpeg's stderr tail in the message.
 */
export async function openVideo(path: string, options: OpenVideoOptions = {}): Promise<VideoSource> {
  const format = requirePixelFormat(options.format ?? 'rgb');
  await requireExisting(path, 'file');
  const metadata = await probeVideo(path);
  const strict = options.strict ?? true;
  return {
    path,
    metadata,
    info: { width: metadata.width, height: metadata.height, fps: metadata.fps, frameCount: metadata.frameCount },
    [Symbol.asyncIterator]: () =>
      decodeRawFrames({
        inputArgs: [...(strict ? ['-xerror'] : []), '-i', path],
        width: metadata.width,
        height: metadata.height,
        what: `video "${path}"`,
        path,
        format,
      }),
  };
}
