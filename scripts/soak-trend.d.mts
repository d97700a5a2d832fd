/** Types of scripts/soak-trend.mjs (memory-trend analysis of the soak run). */

/** Least-squares slope and intercept of y over x. @throws RangeError for fewer than 2 samples or mismatched lengths. */
export function fitLine(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number };

/** The verdict of {@link judgeTrend}. */
export interface TrendVerdict {
  /** Fitted bytes per unit of `at` over the second half. */
  slopeBytesPerUnit: number;
  /** slope × span: the growth the line predicts over the second half, in bytes. */
  growthBytes: number;
  /** Length of the second half in units of `at`. */
  span: number;
  /** Samples the line was fitted to. */
  samplesUsed: number;
  /** True when growthBytes ≤ the budget. */
  flat: boolean;
}

/** The minimum rss of each run of `group` consecutive samples (at the group's last `at`): the floor a leak raises. @throws RangeError for a group size that is not a positive integer. */
export function lowerEnvelope<T extends { at: number; rss: number }>(samples: readonly T[], group: number): { at: number; rss: number }[];

/** Fit a line through the second half of the samples and compare its growth with the budget. */
export function judgeTrend(samples: readonly { at: number; rss: number }[], budgetBytes: number): TrendVerdict;
