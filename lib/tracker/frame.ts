/**
 * Checking and copying user frames. The tracker copies every frame it accepts (compactly,
 * stride = width × channels) because it re-encodes frames of the overlap in later windows
 * and may cut the dynamic template from them, while the caller is free to reuse its buffer as
 * soon as the call returns.
 */
import type { Frame, PixelFormat } from '../engine/types.js';
import { InvalidFrameError } from '../errors.js';
import { describeReceived } from '../geometry/describe.js';

const CHANNELS: Readonly<Record<PixelFormat, number>> = Object.freeze({ rgb: 3, bgr: 3, rgba: 4, gray: 1 });

/** Bytes per pixel of a pixel format. */
export function channelsOf(format: PixelFormat): number {
  return CHANNELS[format];
}

function requirePositiveInteger(value: unknown, name: string, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidFrameError(`Expected a positive integer ${name} for ${what} but received ${describeReceived(value)}`);
  }
  return value;
}

/**
 * Check that `frame` is a {@link Frame} whose buffer holds its declared rows: `data` a
 * Uint8Array (a Buffer is one), positive integer width and height, a known format, an integer
 * stride ≥ width × channels, and data.length ≥ stride × (height − 1) + width × channels.
 * @param what - Name used in error messages. Default: 'frame'.
 * @returns The frame with its stride filled in.
 * @throws InvalidFrameError, e.g. "Expected a positive integer width for frame but received 0".
 */
export function validateFrame(frame: unknown, what = 'frame'): Frame & { stride: number } {
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
    throw new InvalidFrameError(`Expected an object {data, width, height, format} for ${what} but received ${describeReceived(frame)}`);
  }
  const f = frame as Record<string, unknown>;
  if (!(f.data instanceof Uint8Array)) {
    throw new InvalidFrameError(`Expected a Uint8Array or Buffer as data for ${what} but received ${describeReceived(f.data)}`);
  }
  const width = requirePositiveInteger(f.width, 'width', what);
  const height = requirePositiveInteger(f.height, 'height', what);
  if (typeof f.format !== 'string' || !Object.hasOwn(CHANNELS, f.format)) {
    throw new InvalidFrameError(`Expected a format of 'rgb', 'bgr', 'rgba' or 'gray' for ${what} but received ${describeReceived(f.format)}`);
  }
  const format = f.format as PixelFormat;
  const rowBytes = width * CHANNELS[format];
  const stride = f.stride === undefined ? rowBytes : f.stride;
  if (typeof stride !== 'number' || !Number.isInteger(stride) || stride < rowBytes) {
    throw new InvalidFrameError(
      `Expected an integer stride of at least ${rowBytes} (width × channels) for ${what} but received ${describeReceived(stride)}`,
    );
  }
  const needed = stride * (height - 1) + rowBytes;
  if (f.data.length < needed) {
    throw new InvalidFrameError(
      `Expected at least ${needed} bytes of data for ${what} (${width}×${height} ${format}, stride ${stride}) but received ${f.data.length}`,
    );
  }
  return { data: f.data, width, height, format, stride };
}

/** A compact copy of a validated frame (stride = width × channels), independent of the caller's buffer. */
export function copyFrame(frame: Frame & { stride: number }): Frame & { stride: number } {
  const rowBytes = frame.width * channelsOf(frame.format);
  // Every byte is overwritten below, so skip the zero fill (frames can be megabytes each).
  const data: Uint8Array = Buffer.allocUnsafe(rowBytes * frame.height);
  if (frame.stride === rowBytes) {
    data.set(frame.data.subarray(0, rowBytes * frame.height));
  } else {
    for (let y = 0; y < frame.height; y++) {
      data.set(frame.data.subarray(y * frame.stride, y * frame.stride + rowBytes), y * rowBytes);
    }
  }
  return { data, width: frame.width, height: frame.height, format: frame.format, stride: rowBytes };
}
