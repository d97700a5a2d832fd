/**
 * The shipped sample clip (samples/, made by scripts/make-sample.py) and its ground truth agree:
 * 60 decodable 320×240 frames, one box per frame, the README's initial box on line 1, and each
 * box sits on the target — the face inside the box looks like the face inside frame 0's box,
 * while the same box moved by half its width does not.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../lib/engine/types.js';
import type { Box } from '../../lib/geometry/box.js';
import { openVideo } from '../../lib/io/index.js';

const samples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../samples');
const GRID = 12;

function groundTruth(): Box[] {
  return readFileSync(path.join(samples, 'sample.gt.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [x, y, width, height] = line.split(',').map(Number) as [number, number, number, number];
      return { x, y, width, height };
    });
}

/** RGB samples on a GRID×GRID lattice over the middle 50 % of `box` (inside the ellipse). */
function innerPattern(frame: Frame, box: Box): number[] {
  const values: number[] = [];
  for (let j = 0; j < GRID; j++) {
    for (let i = 0; i < GRID; i++) {
      const x = Math.floor(box.x + box.width * (0.25 + (0.5 * (i + 0.5)) / GRID));
      const y = Math.floor(box.y + box.height * (0.25 + (0.5 * (j + 0.5)) / GRID));
      const cx = Math.min(frame.width - 1, Math.max(0, x));
      const cy = Math.min(frame.height - 1, Math.max(0, y));
      const o = cy * frame.width * 3 + cx * 3;
      values.push(frame.data[o] ?? 0, frame.data[o + 1] ?? 0, frame.data[o + 2] ?? 0);
    }
  }
  return values;
}

function meanAbsDiff(a: number[], b: number[]): number {
  return a.reduce((sum, v, k) => sum + Math.abs(v - (b[k] ?? 0)), 0) / a.length;
}

describe('samples/sample.mp4 and sample.gt.txt', () => {
  it('has 60 frames of 320×240, one in-frame box per frame, and the documented initial box', async () => {
    const boxes = groundTruth();
    expect(boxes).toHaveLength(60);
    expect(boxes[0]).toEqual({ x: 42.5, y: 92, width: 64, height: 56 });
    expect(readFileSync(path.join(samples, 'README.md'), 'utf8')).toContain('{ x: 42.5, y: 92, width: 64, height: 56 }');
    for (const b of boxes) {
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.y).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(320);
      expect(b.y + b.height).toBeLessThanOrEqual(240);
    }
    const video = await openVideo(path.join(samples, 'sample.mp4'));
    expect([video.info.width, video.info.height]).toEqual([320, 240]);

    const boxesInOrder = boxes.values();
    let reference: number[] | undefined;
    let frames = 0;
    for await (const frame of video) {
      const box = boxesInOrder.next().value as Box;
      const onTarget = innerPattern(frame, box);
      reference ??= onTarget;
      const beside = innerPattern(frame, { ...box, x: box.x + (box.x > 160 ? -0.5 : 0.5) * box.width });
      // The face changes little between frames (zoom, compression: ≤ 12 measured); off the
      // target the pattern differs a lot (≥ 39 measured; a box 8 px off already gives ~43).
      expect(meanAbsDiff(onTarget, reference)).toBeLessThan(16);
      expect(meanAbsDiff(beside, reference)).toBeGreaterThan(30);
      frames++;
    }
    expect(frames).toBe(60);
  });
});
