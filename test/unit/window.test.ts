import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../lib/errors.js';
import {
  decodeSeed,
  featureSlot,
  isWindowDue,
  nextWindowStart,
  planWindow,
  splitmix64,
  validateStride,
  windowTimesteps,
} from '../../lib/tracker/window.js';

/** Run the schedule the way the tracker does: a window whenever `stride` frames are pending. */
function schedule(frames: number, stride: number, clipLength = 6): { frames: number[]; newCount: number }[] {
  const windows: { frames: number[]; newCount: number }[] = [];
  let last = 0;
  for (let k = 1; k <= frames; k++) {
    if (isWindowDue(k - last, stride)) {
      const plan = planWindow(last, k, stride, clipLength);
      windows.push({ frames: plan.frames, newCount: plan.newCount });
      last = k;
    }
  }
  return windows;
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('window schedule', () => {
  it('stride 3, N = 6: the first window includes the init frame, then windows overlap by 3', () => {
    expect(schedule(12, 3)).toEqual([
      { frames: range(0, 3), newCount: 3 },
      { frames: range(1, 6), newCount: 3 },
      { frames: range(4, 9), newCount: 3 },
      { frames: range(7, 12), newCount: 3 },
    ]);
    const first = planWindow(0, 3, 3, 6);
    expect(first.roles).toEqual(['refine', 'new', 'new', 'new']);
    expect(first.complete).toBe(true);
  });

  it('stride 1 decodes at every frame; the window grows to N and then slides', () => {
    const windows = schedule(8, 1);
    expect(windows.map((w) => w.frames)).toEqual([
      range(0, 1), range(0, 2), range(0, 3), range(0, 4), range(0, 5), range(1, 6), range(2, 7), range(3, 8),
    ]);
    expect(windows.every((w) => w.newCount === 1)).toBe(true);
    expect(planWindow(6, 7, 1, 6).roles).toEqual(['refine', 'refine', 'refine', 'refine', 'refine', 'new']);
  });

  it('stride N has no overlap: every frame is estimated once and never refined', () => {
    expect(schedule(18, 6)).toEqual([
      { frames: range(1, 6), newCount: 6 },
      { frames: range(7, 12), newCount: 6 },
      { frames: range(13, 18), newCount: 6 },
    ]);
    expect(planWindow(6, 12, 6, 6).roles.every((r) => r === 'new')).toBe(true);
  });

  it('a partial window (finish() at the end of a video) keeps the full window start', () => {
    const plan = planWindow(6, 8, 3, 6);
    expect(plan.frames).toEqual(range(4, 8));
    expect(plan.roles).toEqual(['refine', 'refine', 'refine', 'new', 'new']);
    expect(plan.newCount).toBe(2);
    expect(plan.complete).toBe(false);
    // A video of 2 frames after init: the flushed window is [0..2].
    expect(planWindow(0, 2, 3, 6).frames).toEqual(range(0, 2));
  });

  it('frames before nextWindowStart are never needed again', () => {
    expect(nextWindowStart(0, 3, 6)).toBe(0);
    expect(nextWindowStart(3, 3, 6)).toBe(1);
    expect(nextWindowStart(6, 3, 6)).toBe(4);
    expect(nextWindowStart(0, 6, 6)).toBe(1);
    expect(nextWindowStart(4, 1, 6)).toBe(0);
    expect(nextWindowStart(10, 1, 6)).toBe(6);
  });

  it('rejects a window end outside (lastEstimated, lastEstimated + stride]', () => {
    expect(() => planWindow(3, 3, 3, 6)).toThrow('Expected a window end between 4 and 6 but received 3');
    expect(() => planWindow(3, 7, 3, 6)).toThrow(InvalidArgumentError);
    expect(() => planWindow(3, 4.5, 3, 6)).toThrow(InvalidArgumentError);
  });

  it('rejects strides outside 1..clipLength', () => {
    expect(() => validateStride(0, 6)).toThrow("Expected a stride between 1 and 6 (the model's clip length) but received 0");
    expect(() => validateStride(7, 6)).toThrow(InvalidArgumentError);
    expect(() => validateStride(2.5, 6)).toThrow(InvalidArgumentError);
    expect(() => validateStride(6, 6)).not.toThrow();
    expect(() => isWindowDue(-1, 3)).toThrow('Expected a non-negative integer pending frame count but received -1');
  });
});

describe('feature slots, timesteps, seeds', () => {
  it('frames of any window get distinct slots in [0, 2N)', () => {
    for (let start = 0; start < 30; start++) {
      const slots = range(start, start + 5).map((f) => featureSlot(f, 6));
      expect(new Set(slots).size).toBe(6);
      expect(slots.every((s) => s >= 0 && s < 12)).toBe(true);
    }
  });

  it('timesteps follow the roles', () => {
    expect([...windowTimesteps(['refine', 'refine', 'new'], 999, 500)]).toEqual([500, 500, 999]);
  });

  it('splitmix64 matches the reference generator', () => {
    // First output of SplitMix64 seeded with 0 (Vigna's reference implementation).
    expect(splitmix64(0n)).toBe(0xe220a8397b1dcdafn);
  });

  it('decode seeds are deterministic, differ per window and between provisional and full calls', () => {
    expect(decodeSeed(7n, 9, false)).toBe(decodeSeed(7n, 9, false));
    const seeds = new Set([decodeSeed(7n, 9, false), decodeSeed(7n, 9, true), decodeSeed(7n, 12, false), decodeSeed(8n, 9, false)]);
    expect(seeds.size).toBe(4);
    for (const s of seeds) expect(s >= 0n && s < 1n << 64n).toBe(true);
  });
});

describe('window schedule properties', () => {
  it('every frame is new exactly once, windows are consecutive, at most N long, and refine only estimated frames', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 40 }), (n, s, frames) => {
        const clipLength = Math.max(n, s);
        const stride = Math.min(n, s);
        const newCount = new Map<number, number>();
        let last = 0;
        const run = (end: number) => {
          const plan = planWindow(last, end, stride, clipLength);
          expect(plan.frames.length).toBeLessThanOrEqual(clipLength);
          plan.frames.forEach((f, i) => {
            if (i > 0) expect(f).toBe((plan.frames[i - 1] as number) + 1);
            if (plan.roles[i] === 'new') newCount.set(f, (newCount.get(f) ?? 0) + 1);
            else expect(f).toBeLessThanOrEqual(last);
          });
          expect(plan.roles.slice(plan.frames.length - plan.newCount).every((r) => r === 'new')).toBe(true);
          // The window never reaches back before the frames the tracker still keeps.
          expect(plan.frames[0]).toBe(nextWindowStart(last, stride, clipLength));
          last = end;
        };
        for (let k = 1; k <= frames; k++) if (isWindowDue(k - last, stride)) run(k);
        if (frames > last) run(frames); // finish()
        for (let f = 1; f <= frames; f++) expect(newCount.get(f)).toBe(1);
        expect(newCount.has(0)).toBe(false);
      }),
    );
  });
});
