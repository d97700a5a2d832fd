/**
 * Reading a folder of numbered images (GOT-10k, LaSOT and OTB store sequences this way) as a
 * stream of rgb frames. All images are decoded by one ffmpeg process (concat demuxer, file
 * list over stdin), not one process per image.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { FrameSizeMismatchError, IoError } from './errors.js';
import { readImageSize } from './image-size.js';
import { decodeRawFrames } from './raw-decoder.js';
import type { PixelFormat } from '../engine/types.js';
import { requireExisting, requirePixelFormat, type FrameSource } from './video-reader.js';

/** File name endings read as frames (lower case). */
export const FRAME_IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.bmp'];

/** Options of {@link openFrameFolder} and {@link openFrameFiles}. */
export interface FrameReadOptions {
  /** Pixel layout of the frames. Default: 'rgb'. */
  format?: PixelFormat;
}

/** A frames folder opened with {@link openFrameFolder}. */
export interface FrameFolderSource extends FrameSource {
  /** The image files in frame order (absolute paths). */
  readonly files: readonly string[];
}

const naturalOrder = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Sort file names the way people number frames: "2.jpg" before "10.jpg". */
export function sortFrameNames(names: readonly string[]): string[] {
  return [...names].sort((a, b) => naturalOrder.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0));
}

function concatLine(file: string): string {
  if (/[\n\r]/.test(file)) throw new IoError(`Cannot read frame "${file}": its name contains a line break`, { path: file });
  // Quoting rule of ffmpeg's concat script: close the quote, escaped quote, reopen.
  return `file 'file:${file.replace(/'/g, "'\\''")}'\n`;
}

async function writeAll(stdin: Writable, files: readonly string[], signal: AbortSignal): Promise<void> {
  for (const file of files) {
    if (signal.aborted) return;
    if (!stdin.write(concatLine(file))) {
      await new Promise<void>((done) => {
        const finish = (): void => {
          stdin.off('drain', finish);
          stdin.off('close', finish);
          signal.removeEventListener('abort', finish);
          done();
        };
        stdin.once('drain', finish);
        stdin.once('close', finish);
        signal.addEventListener('abort', finish);
      });
    }
  }
}

/**
 * Open a folder of images (.jpg, .jpeg, .png, .bmp) as frames in natural file-name order.
 * Every image's header is checked now, so mixed sizes fail before any frame is decoded.
 * @throws FrameSizeMismatchError naming the first image whose size differs from the first's;
 *   IoError when the folder is missing, holds no images, or an image is unreadable.
 */
export async function openFrameFolder(path: string, options: FrameReadOptions = {}): Promise<FrameFolderSource> {
  await requireExisting(path, 'folder');
  const folder = resolve(path);
  const entries = await readdir(folder, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isFile() && FRAME_IMAGE_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext)))
    .map((entry) => entry.name);
  if (names.length === 0) {
    throw new IoError(`Expected image files (${FRAME_IMAGE_EXTENSIONS.join(', ')}) in the frames folder "${path}" but received none`, { path });
  }
  return openFrameFiles(sortFrameNames(names).map((name) => join(folder, name)), path, options);
}

/**
 * Open an explicit list of image files as frames, in the given order (datasets whose
 * sequences use a range of a folder's images). Sizes are checked as in {@link openFrameFolder}.
 * @param name - What to call the sequence in messages. Default: the first file's folder.
 * @throws FrameSizeMismatchError; IoError for an empty list or an unreadable image.
 */
export async function openFrameFiles(fileList: readonly string[], name?: string, options: FrameReadOptions = {}): Promise<FrameFolderSource> {
  const format = requirePixelFormat(options.format ?? 'rgb');
  const files = fileList.map((file) => resolve(file));
  const first = files[0];
  if (first === undefined) throw new IoError(`Expected at least one image file for ${name ?? 'the frame list'} but received none`);
  const path = name ?? dirname(first);
  const firstSize = await readImageSize(first);
  for (const file of files.slice(1)) {
    const size = await readImageSize(file);
    if (size.width !== firstSize.width || size.height !== firstSize.height) throw new FrameSizeMismatchError(file, firstSize, size);
  }
  return {
    path,
    files,
    info: { width: firstSize.width, height: firstSize.height, fps: undefined, frameCount: files.length },
    [Symbol.asyncIterator]: () =>
      decodeRawFrames({
        inputArgs: ['-xerror', '-f', 'concat', '-safe', '0', '-protocol_whitelist', 'file,pipe', '-i', 'pipe:0'],
        width: firstSize.width,
        height: firstSize.height,
        what: `frames of "${path}"`,
        path,
        format,
        feed: (stdin, signal) => writeAll(stdin, files, signal),
      }),
  };
}
