/**
 * Adapter from OpenCV Mats of `@u4/opencv4nodejs` (an optional peer: this module never imports
 * it) to the tracker's {@link Frame}. See docs/opencv.md for the zero-copy direction.
 */
import { InvalidFrameError } from '../errors.js';
import type { Frame } from '../engine/types.js';
import { describeReceived } from '../geometry/describe.js';

/** The part of an opencv4nodejs `Mat` this adapter uses. */
export interface MatLike {
  /** Image height. */
  readonly rows: number;
  /** Image width. */
  readonly cols: number;
  /** Channels per pixel (1 or 3 are accepted). */
  readonly channels: number;
  /** Element depth; must be CV_8U (0). */
  readonly depth: number;
  /** The pixel bytes, rows packed (opencv4nodejs copies them into a new Buffer). */
  getData(): Uint8Array;
}

/** OpenCV's CV_8U depth constant. */
const CV_8U = 0;

/**
 * A frame over an 8-bit Mat: 3 channels → 'bgr' (OpenCV's order, no conversion needed),
 * 1 channel → 'gray'. The bytes come from `mat.getData()` and are not copied again.
 * @throws InvalidFrameError for other depths or channel counts, empty Mats, or a data size
 *   that does not match rows × cols × channels.
 */
export function frameFromMat(mat: MatLike): Frame {
  if (mat.depth !== CV_8U) throw new InvalidFrameError(`Expected an 8-bit Mat (depth CV_8U = 0) but received depth ${describeReceived(mat.depth)}`);
  if (mat.channels !== 3 && mat.channels !== 1) {
    throw new InvalidFrameError(`Expected a Mat with 3 (BGR) or 1 (gray) channels but received ${describeReceived(mat.channels)}; convert with cv.cvtColor first`);
  }
  if (!Number.isInteger(mat.rows) || !Number.isInteger(mat.cols) || mat.rows <= 0 || mat.cols <= 0) {
    throw new InvalidFrameError(`Expected a non-empty Mat but received ${describeReceived(mat.cols)}x${describeReceived(mat.rows)}`);
  }
  const data = mat.getData();
  const expected = mat.rows * mat.cols * mat.channels;
  if (data.length !== expected) {
    throw new InvalidFrameError(`Expected ${expected} bytes from a ${mat.cols}x${mat.rows} Mat with ${mat.channels} channels but received ${data.length}`);
  }
  return { data, width: mat.cols, height: mat.rows, format: mat.channels === 3 ? 'bgr' : 'gray' };
}
