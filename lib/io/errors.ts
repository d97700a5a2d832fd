/**
 * Typed errors of the video and file I/O layer. Every failure to read or write a video, an
 * image folder or an output file is an {@link IoError} with code `ERR_IO`, so callers (and
 * the `sct-diff` command) can tell I/O trouble from bad arguments or engine failures.
 */
import { SctDiffError } from '../errors.js';

/** Details attached to an {@link IoError}. */
export interface IoErrorDetails {
  /** The file or folder the operation was about, when there is one. */
  path?: string;
  /** The last lines ffmpeg/ffprobe printed on stderr, when a child process failed. */
  stderrTail?: string;
  /** The underlying error (e.g. a Node `ENOENT`). */
  cause?: unknown;
}

/** Reading or writing a video, an image folder or an output file failed. */
export class IoError extends SctDiffError {
  /** The file or folder the operation was about, when there is one. */
  readonly path: string | undefined;
  /** The last lines ffmpeg/ffprobe printed on stderr, when a child process failed. */
  readonly stderrTail: string | undefined;
  constructor(message: string, details: IoErrorDetails = {}) {
    const tail = details.stderrTail?.trim();
    super('ERR_IO', tail ? `${message}\nffmpeg said:\n${tail}` : message, details.cause === undefined ? undefined : { cause: details.cause });
    this.path = details.path;
    this.stderrTail = tail || undefined;
  }
}

/**
 * The images of a frames folder do not all have the same size. Names the first file whose
 * size differs from the first image's.
 */
export class FrameSizeMismatchError extends IoError {
  /** The first file whose size differs. */
  readonly file: string;
  constructor(file: string, expected: { width: number; height: number }, received: { width: number; height: number }) {
    super(
      `Expected every image of the frames folder to be ${expected.width}x${expected.height} like the first one but received ${received.width}x${received.height} in "${file}"`,
      { path: file },
    );
    this.file = file;
  }
}
