/**
 * A 3×5 pixel bitmap font (digits, A–Z, a little punctuation) for labels on frames and plots,
 * so the package draws text without a font library. Lower case is drawn as upper case.
 */
import type { Frame, PixelFormat } from '../engine/types.js';
import { InvalidFrameError } from '../errors.js';
import { describeReceived } from '../geometry/describe.js';

/** An RGB colour, each channel 0–255. */
export type RgbColor = readonly [number, number, number];

/** Glyph rows, top to bottom, three pixels each ('1' = ink). */
const GLYPHS: Record<string, string> = {
  '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111',
  '4': '101101111001001', '5': '111100111001111', '6': '111100111101111', '7': '111001010010010',
  '8': '111101111101111', '9': '111101111001111', '.': '000000000000010', '-': '000000111000000',
  ':': '000010000010000', '%': '101001010100101', ' ': '000000000000000', ',': '000000000010100',
  '(': '010100100100010', ')': '010001001001010', '=': '000111000111000', '/': '001001010100100',
  '[': '110100100100110', ']': '011001001001011', '_': '000000000000111', '+': '000010111010000',
  A: '010101111101101', B: '110101110101110', C: '011100100100011', D: '110101101101110',
  E: '111100110100111', F: '111100110100100', G: '011100101101011', H: '101101111101101',
  I: '111010010010111', J: '001001001101010', K: '101101110101101', L: '100100100100111',
  M: '101111111101101', N: '110101101101101', O: '010101101101010', P: '110101110100100',
  Q: '010101101110011', R: '110101110101101', S: '011100010001110', T: '111010010010010',
  U: '101101101101111', V: '101101101101010', W: '101101111111101', X: '101101010101101',
  Y: '101101010010010', Z: '111001010100111',
};

const CHANNELS: Record<PixelFormat, number> = { rgb: 3, bgr: 3, rgba: 4, gray: 1 };

/**
 * A function that paints one pixel of `frame` in `color` (respecting format and stride).
 * @throws InvalidFrameError for an unknown format or a buffer smaller than the frame.
 */
export function pixelPainter(frame: Frame, color: RgbColor): (x: number, y: number) => void {
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

/** Paint the rectangle [x0, x1) × [y0, y1), clipped to the frame. */
export function fillRect(put: (x: number, y: number) => void, frame: Frame, x0: number, y0: number, x1: number, y1: number): void {
  const left = Math.max(0, Math.round(x0));
  const top = Math.max(0, Math.round(y0));
  const right = Math.min(frame.width, Math.round(x1));
  const bottom = Math.min(frame.height, Math.round(y1));
  for (let y = top; y < bottom; y++) for (let x = left; x < right; x++) put(x, y);
}

/** Width in pixels of `text` drawn at `scale` (4 × scale per character, last gap included). */
export function textWidth(text: string, scale = 1): number {
  return text.length * 4 * scale;
}

/**
 * Draw `text` with its top-left corner at (x, y), each font pixel `scale` × `scale` image
 * pixels, clipped to the frame. Characters without a glyph are drawn as spaces.
 */
export function drawText(frame: Frame, text: string, x: number, y: number, color: RgbColor, scale = 1): void {
  const put = pixelPainter(frame, color);
  let cursor = x;
  for (const character of text.toUpperCase()) {
    const glyph = GLYPHS[character];
    if (glyph !== undefined) {
      for (let bit = 0; bit < 15; bit++) {
        if (glyph[bit] !== '1') continue;
        const gx = cursor + (bit % 3) * scale;
        const gy = y + Math.floor(bit / 3) * scale;
        fillRect(put, frame, gx, gy, gx + scale, gy + scale);
      }
    }
    cursor += 4 * scale;
  }
}

/** Draw `text` rotated 90° counter-clockwise (reading bottom to top), its bottom-left at (x, y). */
export function drawTextVertical(frame: Frame, text: string, x: number, y: number, color: RgbColor, scale = 1): void {
  const put = pixelPainter(frame, color);
  let cursor = y;
  for (const character of text.toUpperCase()) {
    const glyph = GLYPHS[character];
    if (glyph !== undefined) {
      for (let bit = 0; bit < 15; bit++) {
        if (glyph[bit] !== '1') continue;
        const column = bit % 3;
        const row = Math.floor(bit / 3);
        const gx = x + row * scale;
        const gy = cursor - (column + 1) * scale;
        fillRect(put, frame, gx, gy, gx + scale, gy + scale);
      }
    }
    cursor -= 4 * scale;
  }
}
