/**
 * One ffmpeg child that decodes some input to raw frames (rgb24 by default) on stdout. Shared by the video
 * reader and the frames-folder reader; owns the child's whole life: it is started when
 * iteration starts and killed when the consumer stops early or anything fails.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { Frame, PixelFormat } from '../engine/types.js';
import { IoError } from './errors.js';
import { childExit, describeExit, ffmpegPrograms, StderrTail, stopChild } from './ffmpeg.js';
import { PartialFrameError, readFixedSizeChunks } from './raw-frames.js';

/** ffmpeg's name of each pixel layout. */
export const FFMPEG_PIXEL_FORMATS: Readonly<Record<PixelFormat, string>> = { rgb: 'rgb24', bgr: 'bgr24', rgba: 'rgba', gray: 'gray' };

const CHANNELS: Readonly<Record<PixelFormat, number>> = { rgb: 3, bgr: 3, rgba: 4, gray: 1 };

/** What {@link decodeRawFrames} decodes. */
export interface RawDecodeRequest {
  /** ffmpeg arguments that select the input (everything up to and including `-i …`). */
  inputArgs: string[];
  /** Frame width the output must have. */
  width: number;
  /** Frame height the output must have. */
  height: number;
  /** Pixel layout of the frames. Default: 'rgb'. */
  format?: PixelFormat;
  /** What is being decoded, for messages: e.g. `video "clip.mp4"`. */
  what: string;
  /** The file or folder, for IoError.path. */
  path: string;
  /**
   * Writes ffmpeg's stdin (the frames-folder reader streams a file list through it). Must
   * respect back-pressure and stop when `signal` aborts. When absent, stdin is closed.
   */
  feed?: (stdin: Writable, signal: AbortSignal) => Promise<void>;
}

/**
 * Decode to raw frames, one fresh buffer per frame, streaming: at most one frame plus the
 * pipe buffers is held, and ffmpeg blocks while the consumer is busy.
 * @throws IoError when ffmpeg fails (with its stderr tail), the output ends inside a frame, or
 *   ffmpeg is not installed.
 */
export async function* decodeRawFrames(request: RawDecodeRequest): AsyncGenerator<Frame> {
  const { ffmpeg } = ffmpegPrograms();
  const { width, height } = request;
  const format = request.format ?? 'rgb';
  const args = [
    '-hide_banner', '-v', 'error',
    ...(request.feed ? [] : ['-nostdin']),
    ...request.inputArgs,
    '-map', '0:v:0',
    '-fps_mode', 'passthrough',
    '-f', 'rawvideo', '-pix_fmt', FFMPEG_PIXEL_FORMATS[format],
    'pipe:1',
  ];
  const child = spawn(ffmpeg, args, { stdio: [request.feed ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const exited = childExit(child, ffmpeg);
  exited.catch(() => undefined); // awaited below; this only keeps an early rejection handled
  const stderr = new StderrTail();
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const stdout = child.stdout;
  if (stdout === null) throw new Error('unreachable: ffmpeg was spawned with a piped stdout');

  const abort = new AbortController();
  let feedError: unknown;
  let feeding: Promise<void> = Promise.resolve();
  if (request.feed && child.stdin) {
    // ffmpeg may exit before reading all input (error, early stop): EPIPE is expected then.
    child.stdin.on('error', () => undefined);
    feeding = request.feed(child.stdin, abort.signal).then(
      () => {
        child.stdin?.end();
      },
      (error: unknown) => {
        feedError = error;
        child.kill('SIGKILL');
      },
    );
  }

  let frames = 0;
  let finished = false;
  try {
    let partial: PartialFrameError | undefined;
    try {
      for await (const data of readFixedSizeChunks(stdout, width * height * CHANNELS[format])) {
        yield { data, width, height, format };
        frames++;
      }
    } catch (error) {
      if (!(error instanceof PartialFrameError)) throw error;
      partial = error;
    }
    const exit = await exited;
    await feeding;
    if (feedError !== undefined) throw feedError;
    if (exit.code !== 0) {
      throw new IoError(`Could not decode ${request.what}: ffmpeg stopped with ${describeExit(exit)} after ${frames} frames (the file may be truncated or corrupt)`, {
        path: request.path,
        stderrTail: stderr.toString(),
      });
    }
    if (partial) {
      throw new IoError(`Could not decode ${request.what}: ${partial.message} after ${frames} whole frames`, { path: request.path, stderrTail: stderr.toString() });
    }
    finished = true;
  } finally {
    if (!finished) {
      abort.abort();
      await stopChild(child, exited);
      await feeding;
    }
  }
}
