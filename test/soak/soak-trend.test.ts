/** The soak run's verdict (scripts/soak-trend.mjs): line fit and flat/growing judgement. */
import { describe, expect, it } from 'vitest';
import { fitLine, judgeTrend, lowerEnvelope } from '../../scripts/soak-trend.mjs';

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

describe('lowerEnvelope', () => {
  it('keeps the minimum of each full group, at the group\'s last position', () => {
    const samples = [5, 3, 9, 4, 8, 6, 7].map((rss, k) => ({ at: k * 10, rss }));
    // 7 samples in groups of 3: the lone 7th joins the second group.
    expect(lowerEnvelope(samples, 3)).toEqual([
      { at: 20, rss: 3 },
      { at: 60, rss: 4 },
    ]);
    expect(lowerEnvelope(samples.slice(0, 6), 2)).toEqual([
      { at: 10, rss: 3 },
      { at: 30, rss: 4 },
      { at: 50, rss: 6 },
    ]);
    expect(lowerEnvelope(samples, 1)).toEqual(samples.map(({ at, rss }) => ({ at, rss })));
    expect(() => lowerEnvelope(samples, 0)).toThrow('Expected a positive integer group size but received 0');
  });

  // Swings like a real run's: a flat 76 MB floor with upward spikes of up to 30 MB.
  const spikes = (k: number) => ((k * 7919) % 13 < 4 ? ((k * 104729) % 31) * MB : 0);
  const trackers = Array.from({ length: 121 }, (_, k) => k * 5);

  it('sees through upward spikes: a flat floor is flat, a leak under the spikes is growing', () => {
    const flat = trackers.map((at, k) => ({ at, rss: 76 * MB + spikes(k) }));
    expect(judgeTrend(lowerEnvelope(flat, 4), 4 * MB).flat).toBe(true);
    // 20 KB per tracker: 6 MB over the second half of 600 trackers.
    const leaking = trackers.map((at, k) => ({ at, rss: 76 * MB + 20_000 * at + spikes(k) }));
    const verdict = judgeTrend(lowerEnvelope(leaking, 4), 4 * MB);
    expect(verdict.slopeBytesPerUnit).toBeGreaterThan(15_000);
    expect(verdict.flat).toBe(false);
  });
});
