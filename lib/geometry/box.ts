/**
 * Axis-aligned boxes and their formats. The project's one box type is {@link Box}: top-left
 * corner plus size (xywh) in continuous image pixels (pixel i covers [i, i + 1)), the format
 * of GOT-10k / LaSOT annotations and of the tracker's API.
 */
import { InvalidArgumentError, InvalidBoxError } from '../errors.js';
import { describeReceived } from './describe.js';

/** A box as top-left corner and size, in image pixels (or normalized crop units where noted). */
export interface Box {
  /** Left edge. */
  x: number;
  /** Top edge. */
  y: number;
  /** Width (> 0 for a valid box). */
  width: number;
  /** Height (> 0 for a valid box). */
  height: number;
}

/** Corner format [x1, y1, x2, y2] (left, top, right, bottom). */
export type XYXY = [number, number, number, number];

/** Centre format [cx, cy, width, height]. */
export type CXCYWH = [number, number, number, number];

/** Corners [x1, y1, x2, y2] of a box. */
export function toXYXY(b: Box): XYXY {
  return [b.x, b.y, b.x + b.width, b.y + b.height];
}

/** Box from corners [x1, y1, x2, y2]; crossed corners give a negative width or height. */
export function fromXYXY(c: XYXY): Box {
  return { x: c[0], y: c[1], width: c[2] - c[0], height: c[3] - c[1] };
}

/** Centre and size [cx, cy, width, height] of a box. */
export function toCXCYWH(b: Box): CXCYWH {
  return [b.x + b.width / 2, b.y + b.height / 2, b.width, b.height];
}

/** Box from centre and size [cx, cy, width, height]. */
export function fromCXCYWH(c: CXCYWH): Box {
  return { x: c[0] - c[2] / 2, y: c[1] - c[3] / 2, width: c[2], height: c[3] };
}

/** Centre point of a box. */
export function boxCenter(b: Box): { x: number; y: number } {
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/** Area width × height (negative for a box with crossed corners). */
export function boxArea(b: Box): number {
  return b.width * b.height;
}

function readField(record: Record<string, unknown>, field: keyof Box, positive: boolean, what: string): number {
  const value = record[field];
  const ok = typeof value === 'number' && Number.isFinite(value) && (!positive || value > 0);
  if (!ok) {
    throw new InvalidBoxError(`Expected a finite ${positive ? 'positive ' : ''}${field} for ${what} but received ${describeReceived(value)}`);
  }
  return value;
}

/**
 * Check that `box` is an object with finite `x`, `y` and finite positive `width`, `height`,
 * and return a plain copy of it.
 * @param box - The value to check (typically user input).
 * @param what - Name used in the error message. Default: `'box'`.
 * @throws InvalidBoxError, e.g. "Expected a finite positive width for box but received -3".
 */
export function validateBox(box: unknown, what = 'box'): Box {
  if (typeof box !== 'object' || box === null || Array.isArray(box)) {
    throw new InvalidBoxError(`Expected an object {x, y, width, height} for ${what} but received ${describeReceived(box)}`);
  }
  const record = box as Record<string, unknown>;
  return {
    x: readField(record, 'x', false, what),
    y: readField(record, 'y', false, what),
    width: readField(record, 'width', true, what),
    height: readField(record, 'height', true, what),
  };
}

function requireImageSide(value: number, name: string): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(`Expected a finite positive ${name} but received ${describeReceived(value)}`);
  }
}

/**
 * ARTrack's `clip_box`: keep a predicted box on the image and at least `margin` pixels wide
 * and high. x1 is clipped to [0, W − margin] and x2 to [margin, W] (same for y), then width and
 * height are raised to at least `margin`. The result can therefore stick out past the right or
 * bottom edge by up to `margin` pixels, exactly as in ARTrack; a box with crossed corners
 * (negative width) comes back `margin` wide. Requires finite fields, not a positive size.
 * @param margin - Minimum size in pixels. Default: 10 (ARTrack's tracker).
 * @throws InvalidBoxError for non-finite fields; InvalidArgumentError for bad image sizes.
 */
export function clipBox(b: Box, imageWidth: number, imageHeight: number, margin = 10): Box {
  requireImageSide(imageWidth, 'image width');
  requireImageSide(imageHeight, 'image height');
  if (!Number.isFinite(margin) || margin < 0) {
    throw new InvalidArgumentError(`Expected a finite non-negative margin but received ${describeReceived(margin)}`);
  }
  for (const field of ['x', 'y', 'width', 'height'] as const) readField(b as unknown as Record<string, unknown>, field, false, 'box');
  const x1 = Math.min(Math.max(0, b.x), imageWidth - margin);
  const x2 = Math.min(Math.max(margin, b.x + b.width), imageWidth);
  const y1 = Math.min(Math.max(0, b.y), imageHeight - margin);
  const y2 = Math.min(Math.max(margin, b.y + b.height), imageHeight);
  return { x: x1, y: y1, width: Math.max(margin, x2 - x1), height: Math.max(margin, y2 - y1) };
}

/**
 * Whether the box overlaps the image [0, W) × [0, H) with positive area (touching an edge
 * does not count).
 */
export function boxIntersectsImage(b: Box, imageWidth: number, imageHeight: number): boolean {
  return b.x < imageWidth && b.x + b.width > 0 && b.y < imageHeight && b.y + b.height > 0;
}
