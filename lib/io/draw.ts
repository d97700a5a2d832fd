/** Drawing a box outline (and optionally a short label) onto a frame in place. */
import { InvalidArgumentError, InvalidFrameError } from '../errors.js';
import type { Frame, PixelFormat } from '../engine/types.js';
import type { Box } from '../geometry/box.js';
import { describeReceived } from '../geometry/describe.js';

/** An RGB colour, each channel 0–255. */
export type RgbColor = readonly [number, number, number];

/** Options of {@link drawBox}. */
export interface DrawBoxOptions {
  /** Outline colour. Default: [255, 0, 0] (red). */
  color?: RgbColor;
  /** Line thickness in pixels, drawn inward from the box edge. Default: 2. */
  thickness?: number;
  /** Short text drawn above the box (digits, '.', '-', ':', '%' and space). Default: none. */
  label?: string;
}

const CHANNELS: Record<PixelFormat, number> = { rgb: 3, bgr: 3, rgba: 4, gray: 1 };

/** A 3×5 pixel font, one string of 15 bits (row by row) per glyph. */
const GLYPHS: Record<string, string> = {
  '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111',
  '4': '101101111001001', '5': '111100111001111', '6': '111100111101111', '7': '111001010010010',
  '8': '111101111101111', '9': '111101111001111', '.': '000000000000010', '-': '000000111000000',
  ':': '000010000010000', '%': '101001010100101', ' ': '000000000000000',
};

function pixelWriter(frame: Frame, color: RgbColor): (x: number, y: number) => void {
  const channels = CHANNELS[frame.format];
  if (channels === undefined) throw new InvalidFrameError(`Expected format 'rgb', 'bgr', 'rgba' or 'gray' but received ${describeReceived(frame.format)}`);
  const stride = frame.stride ?? frame.width * channels;
  if (frame.data.length < stride * (frame.height - 1) + frame.width * channels) {
    throw new InvalidFrameError(`Expected at least ${stride * (frame.height - 1) + frame.width * channels} bytes for a ${frame.width}x${frame.height} ${frame.format} frame but received ${frame.data.length}`);
  }
  const [r, g, b] = color;
  const value: number[] =
    frame.format === 'rgb' ? [r, g, b] : frame.format === 'bgr' ? [b, g, r] : frame.format === 'rgba' ? [r, g, b, 255] : [Math.round(0.299 * r + 0.587 * g + 0.114 * b)];
  const data = frame.data;
  return (x, y) => {
    const at = y * stride + x * channels;
    for (let c = 0; c < channels; c++) data[at + c] = value[c] as number;
  };
}

function fillRect(put: (x: number, y: number) => void, frame: Frame, x0: number, y0: number, x1: number, y1: number): void {
  const left = Math.max(0, x0);
  const top = Math.max(0, y0);
  const right = Math.min(frame.width, x1);
  const bottom = Math.min(frame.height, y1);
  for (let y = top; y < bottom; y++) for (let x = left; x < right; x++) put(x, y);
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
  const put = pixelWriter(frame, color);
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
  if (options.label) drawLabel(frame, options.label, x0, y0 - 12, put);
}

/** Draw `text` with the 3×5 font scaled ×2 at (x, y), clipped to the frame; unknown characters are skipped. */
function drawLabel(frame: Frame, text: string, x: number, y: number, put: (x: number, y: number) => void): void {
  const scale = 2;
  const top = Math.max(0, y);
  let cursor = Math.max(0, x);
  for (const character of text) {
    const glyph = GLYPHS[character];
    if (glyph === undefined) continue;
    for (let bit = 0; bit < 15; bit++) {
      if (glyph[bit] !== '1') continue;
      const gx = cursor + (bit % 3) * scale;
      const gy = top + Math.floor(bit / 3) * scale;
      fillRect(put, frame, gx, gy, gx + scale, gy + scale);
    }
    cursor += 4 * scale;
  }
}
