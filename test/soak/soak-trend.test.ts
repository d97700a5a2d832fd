/** The soak run's verdict (scripts/soak-trend.mjs): line fit and flat/growing judgement. */
import { describe, expect, it } from 'vitest';
import { fitLine, judgeTrend } from '../../scripts/soak-trend.mjs';

const MB = 1024 * 1024;

describe('fitLine', () => {
  it('recovers slope and intercept of exact and noisy lines', () => {
    const xs = [0, 1, 2, 3, 4, 5];
    const exact = fitLine(
      xs,
      xs.map((x) => 3 * x - 2),
    );
    expect(exact.slope).toBeCloseTo(3, 12);
    expect(exact.intercept).toBeCloseTo(-2, 12);
    // Symmetric ±1 noise around y = 10 − x: the least-squares line is the underlying one.
    const noisy = fitLine(
      [0, 0, 10, 10],
      [11, 9, 1, -1],
    );
    expect(noisy.slope).toBeCloseTo(-1, 12);
    expect(noisy.intercept).toBeCloseTo(10, 12);
  });

  it('rejects too few samples, mismatched lengths and a single x value', () => {
    expect(() => fitLine([1], [1])).toThrow('Expected at least 2 samples to fit a line but received 1');
    expect(() => fitLine([1, 2], [1])).toThrow('Expected as many y values as x values (2) but received 1');
    expect(() => fitLine([4, 4], [1, 2])).toThrow(/two distinct x values/);
  });
});

describe('judgeTrend', () => {
  // 0..100 000 frames, one sample per 1 000: a warm-up ramp of 50 MB over the first 10 %.
  const at = Array.from({ length: 101 }, (_, k) => k * 1000);
  const warmUp = (x: number) => 100 * MB + 50 * MB * Math.min(1, x / 10_000);

  it('calls a run flat when memory only rose during warm-up (first half ignored)', () => {
    const wobble = (k: number) => ((k * 7919) % 11) * 100_000; // deterministic ±0.5 MB jitter
    const verdict = judgeTrend(
      at.map((x, k) => ({ at: x, rss: warmUp(x) + wobble(k) })),
      4 * MB,
    );
    expect(verdict.samplesUsed).toBe(51);
    expect(verdict.span).toBe(50_000);
    expect(Math.abs(verdict.growthBytes)).toBeLessThan(1 * MB);
    expect(verdict.flat).toBe(true);
  });

  it('calls a steady 100 bytes/frame leak growing (5 MB over the second half)', () => {
    const verdict = judgeTrend(
      at.map((x) => ({ at: x, rss: warmUp(x) + 100 * x })),
      4 * MB,
    );
    expect(verdict.slopeBytesPerUnit).toBeCloseTo(100, 6);
    expect(verdict.growthBytes).toBeCloseTo(5_000_000, 0);
    expect(verdict.flat).toBe(false);
    // The same leak passes a budget that allows for it.
    expect(judgeTrend(at.map((x) => ({ at: x, rss: warmUp(x) + 100 * x })), 6 * MB).flat).toBe(true);
  });

  it('rejects an empty sample list', () => {
    expect(() => judgeTrend([], MB)).toThrow('Expected memory samples but received none');
  });
});
