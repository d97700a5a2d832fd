/** Drawing a box outline (and optionally a short label) onto a frame in place. */
import { InvalidArgumentError } from '../errors.js';
import type { Frame } from '../engine/types.js';
import type { Box } from '../geometry/box.js';
import { describeReceived } from '../geometry/describe.js';
import { drawText, fillRect, pixelPainter, type RgbColor } from './font.js';

/** Options of {@link drawBox}. */
export interface DrawBoxOptions {
  /** Outline colour. Default: [255, 0, 0] (red). */
  color?: RgbColor;
  /** Line thickness in pixels, drawn inward from the box edge. Default: 2. */
  thickness?: number;
  /** Short text drawn above the box's top-left corner (digits, A–Z, a little punctuation). Default: none. */
  label?: string;
}

/**
 * Draw the outline of `box` onto `frame` (modifies `frame.data`). The outline covers the
 * pixels from round(x) to round(x + width) − 1, `thickness` pixels wide inward; parts outside
 * the frame are clipped, so any finite box is accepted.
 * @throws InvalidArgumentError for a non-finite box or bad thickness/colour; InvalidFrameError
 *   for a frame whose buffer is too small.
 */
export function drawBox(frame: Frame, box: Box, options: DrawBoxOptions = {}): void {
  const thickness = options.thickness ?? 2;
  if (!Number.isInteger(thickness) || thickness < 1) throw new InvalidArgumentError(`Expected a positive integer thickness but received ${describeReceived(thickness)}`);
  const color = options.color ?? [255, 0, 0];
  if (color.length !== 3 || color.some((c) => !Number.isInteger(c) || c < 0 || c > 255)) {
    throw new InvalidArgumentError(`Expected a colour of three integers 0-255 but received ${describeReceived(color)}`);
  }
  for (const field of ['x', 'y', 'width', 'height'] as const) {
    if (!Number.isFinite(box[field])) throw new InvalidArgumentError(`Expected a finite ${field} for box but received ${describeReceived(box[field])}`);
  }
  const put = pixelPainter(frame, color);
  const x0 = Math.round(box.x);
  const y0 = Math.round(box.y);
  const x1 = Math.round(box.x + box.width);
  const y1 = Math.round(box.y + box.height);
  if (x1 <= x0 || y1 <= y0) return;
  const t = Math.min(thickness, Math.ceil((x1 - x0) / 2), Math.ceil((y1 - y0) / 2));
  fillRect(put, frame, x0, y0, x1, y0 + t); // top
  fillRect(put, frame, x0, y1 - t, x1, y1); // bottom
  fillRect(put, frame, x0, y0, x0 + t, y1); // left
  fillRect(put, frame, x1 - t, y0, x1, y1); // right
  // Above the box when there is room, else just inside its top edge.
  if (options.label) drawText(frame, options.label, Math.max(0, x0), y0 >= 12 ? y0 - 12 : Math.max(0, y0) + t + 2, color, 2);
}

