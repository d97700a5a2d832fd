/**
 * Encoding frames to a video file through ffmpeg's stdin. The file appears under its final
 * name only when encoding succeeded: ffmpeg writes to a hidden temporary name in the same
 * folder (same filesystem, so the final rename is atomic), and any failure deletes it.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { InvalidArgumentError, InvalidFrameError } from '../errors.js';
import type { Frame, PixelFormat } from '../engine/types.js';
import { describeReceived } from '../geometry/describe.js';
import { IoError } from './errors.js';
import { FFMPEG_PIXEL_FORMATS } from './raw-decoder.js';
import { childExit, describeExit, ffmpegPrograms, runToCompletion, StderrTail, stopChild, type ChildExit } from './ffmpeg.js';

/** Video codecs the writer can use. */
export type VideoCodec = 'libx264' | 'mpeg4';

/** Options of {@link VideoWriter.open}. */
export interface VideoWriterOptions {
  /** Frame width in pixels (odd sizes are padded by one pixel for the encoder). */
  width: number;
  /** Frame height in pixels. */
  height: number;
  /** Frames per second stored in the file. Default: 30. */
  fps?: number;
  /** Pixel layout of the frames you will write. Default: 'rgb'. */
  format?: PixelFormat;
  /** Codec. Default: libx264 when this ffmpeg has it, else mpeg4. */
  codec?: VideoCodec;
  /** Quality (libx264 CRF 0–51, lower is better; mpeg4 qscale 1–31). Default: 20 / 4. */
  quality?: number;
}

const CHANNELS: Record<PixelFormat, number> = { rgb: 3, bgr: 3, rgba: 4, gray: 1 };
const CONTAINERS: Record<string, string> = { '.mp4': 'mp4', '.m4v': 'mp4', '.mov': 'mov', '.mkv': 'matroska', '.avi': 'avi' };

let encoderList: Promise<string> | undefined;

/** The codec {@link VideoWriter} uses by default: libx264 when ffmpeg has it, else mpeg4. */
export async function defaultVideoCodec(): Promise<VideoCodec> {
  encoderList ??= runToCompletion(ffmpegPrograms().ffmpeg, ['-hide_banner', '-encoders']).then((run) => run.stdout.toString());
  return /\blibx264\b/.test(await encoderList) ? 'libx264' : 'mpeg4';
}

function requirePositiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`Expected a positive integer ${name} but received ${describeReceived(value)}`);
  }
  return value;
}

/** Encodes frames to a video file; see the module comment for the no-partial-output rule. */
export class VideoWriter implements AsyncDisposable {
  private failed = false;
  private closed = false;
  private written = 0;

  private constructor(
    /** The final output path. */
    readonly path: string,
    private readonly temporaryPath: string,
    private readonly options: Required<Pick<VideoWriterOptions, 'width' | 'height' | 'format'>>,
    private readonly child: ChildProcessByStdio<Writable, null, Readable>,
    private readonly exited: Promise<ChildExit>,
    private readonly stderr: StderrTail,
  ) {}

  /** Frames written so far. */
  get framesWritten(): number {
    return this.written;
  }

  /**
   * Start an encoder for `path` (.mp4, .m4v, .mov, .mkv or .avi).
   * @throws InvalidArgumentError for bad sizes, fps or extension; IoError when the folder is
   *   missing or not writable, or ffmpeg cannot start.
   */
  static async open(path: string, options: VideoWriterOptions): Promise<VideoWriter> {
    const width = requirePositiveInteger(options.width, 'width for the video writer');
    const height = requirePositiveInteger(options.height, 'height for the video writer');
    const fps = options.fps ?? 30;
    if (!Number.isFinite(fps) || fps <= 0) throw new InvalidArgumentError(`Expected a finite positive fps for the video writer but received ${describeReceived(fps)}`);
    const format = options.format ?? 'rgb';
    if (!(format in CHANNELS)) throw new InvalidArgumentError(`Expected format 'rgb', 'bgr', 'rgba' or 'gray' for the video writer but received ${describeReceived(format)}`);
    const extension = extname(path).toLowerCase();
    const container = CONTAINERS[extension];
    if (container === undefined) {
      throw new InvalidArgumentError(`Expected a video file name ending in ${Object.keys(CONTAINERS).join(', ')} but received ${describeReceived(path)}`);
    }
    const folder = dirname(path);
    try {
      await access(folder, constants.W_OK);
    } catch (cause) {
      throw new IoError(`Cannot write video "${path}": the folder "${folder}" does not exist or is not writable`, { path, cause });
    }
    const codec = options.codec ?? (await defaultVideoCodec());
    const quality = options.quality ?? (codec === 'libx264' ? 20 : 4);
    const temporaryPath = join(folder, `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
    const { ffmpeg } = ffmpegPrograms();
    const args = [
      '-hide_banner', '-v', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', FFMPEG_PIXEL_FORMATS[format], '-s', `${width}x${height}`, '-framerate', String(fps),
      '-i', 'pipe:0',
      // yuv420p (what players expect) needs even sizes: pad odd ones by one pixel.
      '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2',
      '-c:v', codec,
      ...(codec === 'libx264' ? ['-crf', String(quality), '-preset', 'veryfast'] : ['-q:v', String(quality)]),
      '-pix_fmt', 'yuv420p',
      '-f', container,
      temporaryPath,
    ];
    const child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    const exited = childExit(child, ffmpeg);
    exited.catch(() => undefined); // awaited by close/abort; keeps an early failure handled
    const stderr = new StderrTail();
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => undefined); // EPIPE when ffmpeg died; reported via its exit
    return new VideoWriter(path, temporaryPath, { width, height, format }, child, exited, stderr);
  }

  private compactBytes(frame: Frame): Uint8Array {
    const { width, height, format } = this.options;
    if (frame.width !== width || frame.height !== height || frame.format !== format) {
      throw new InvalidFrameError(`Expected a ${width}x${height} ${format} frame for video "${this.path}" but received a ${frame.width}x${frame.height} ${frame.format} frame`);
    }
    const rowBytes = width * CHANNELS[format];
    const stride = frame.stride ?? rowBytes;
    if (!Number.isInteger(stride) || stride < rowBytes || frame.data.length < stride * (height - 1) + rowBytes) {
      throw new InvalidFrameError(`Expected at least ${stride * (height - 1) + rowBytes} bytes with stride ${stride} for a ${width}x${height} ${format} frame but received ${frame.data.length}`);
    }
    if (stride === rowBytes) return frame.data.subarray(0, rowBytes * height);
    const compact = new Uint8Array(rowBytes * height);
    for (let row = 0; row < height; row++) compact.set(frame.data.subarray(row * stride, row * stride + rowBytes), row * rowBytes);
    return compact;
  }

  private requireUsable(): void {
    if (this.failed) throw new IoError(`Cannot write to video "${this.path}": an earlier write failed and the file was deleted`, { path: this.path });
    if (this.closed) throw new IoError(`Cannot write to video "${this.path}": it is already closed`, { path: this.path });
  }

  /**
   * Encode one frame. Resolves once ffmpeg has taken the bytes (so the caller may reuse the
   * buffer) — awaiting each write is the back-pressure. Any failure aborts the whole file.
   * @throws InvalidFrameError for a frame of another size or format; IoError when ffmpeg failed.
   */
  async write(frame: Frame): Promise<void> {
    this.requireUsable();
    let bytes: Uint8Array;
    try {
      bytes = this.compactBytes(frame);
    } catch (error) {
      await this.abort();
      throw error;
    }
    const accepted = await new Promise<boolean>((done) => {
      this.child.stdin.write(bytes, (error) => done(error === undefined || error === null));
    });
    if (!accepted) {
      let exit: ChildExit;
      try {
        exit = await this.exited;
      } catch (startFailure) {
        // ffmpeg never ran (e.g. not installed): that error says more than a broken pipe.
        await this.abort();
        throw startFailure;
      }
      await this.abort();
      throw new IoError(`Could not encode video "${this.path}": ffmpeg stopped with ${describeExit(exit)} after ${this.written} frames`, {
        path: this.path,
        stderrTail: this.stderr.toString(),
      });
    }
    this.written++;
  }

  /**
   * Finish the file and move it to its final name.
   * @throws IoError when ffmpeg fails (the partial file is deleted).
   */
  async close(): Promise<void> {
    this.requireUsable();
    this.closed = true;
    this.child.stdin.end();
    let exit: ChildExit;
    try {
      exit = await this.exited;
    } catch (error) {
      await this.removeTemporary();
      throw error;
    }
    if (exit.code !== 0) {
      await this.removeTemporary();
      throw new IoError(`Could not encode video "${this.path}": ffmpeg stopped with ${describeExit(exit)} after ${this.written} frames`, {
        path: this.path,
        stderrTail: this.stderr.toString(),
      });
    }
    try {
      await rename(this.temporaryPath, this.path);
    } catch (cause) {
      await this.removeTemporary();
      throw new IoError(`Could not move the finished video to "${this.path}"`, { path: this.path, cause });
    }
  }

  /** Same as {@link VideoWriter.abort}: with `await using`, a writer not closed is discarded. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.abort();
  }

  /** Stop encoding and delete the partial file. Idempotent; never throws. */
  async abort(): Promise<void> {
    if (this.closed && !this.failed) {
      // close() already ran (successfully or not); nothing of ours is left to remove.
      if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    }
    this.failed = true;
    this.child.stdin.destroy();
    await stopChild(this.child, this.exited);
    await this.removeTemporary();
  }

  private async removeTemporary(): Promise<void> {
    await rm(this.temporaryPath, { force: true }).catch(() => undefined);
  }
}
