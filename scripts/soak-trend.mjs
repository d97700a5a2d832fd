// Memory-trend analysis of the soak run (scripts/soak.mjs): a least-squares line through the
// resident-memory samples of the run's second half, and the verdict "flat" or "growing".
// Plain JavaScript so the soak runs on the built package with nothing but node; the types
// are in soak-trend.d.mts and the unit test in test/soak/soak-trend.test.ts.

/**
 * Least-squares slope and intercept of y over x.
 * @param {readonly number[]} xs
 * @param {readonly number[]} ys
 * @returns {{ slope: number, intercept: number }}
 */
export function fitLine(xs, ys) {
  if (xs.length !== ys.length) {
    throw new RangeError(`Expected as many y values as x values (${xs.length}) but received ${ys.length}`);
  }
  if (xs.length < 2) throw new RangeError(`Expected at least 2 samples to fit a line but received ${xs.length}`);
  const n = xs.length;
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    meanX += xs[i] / n;
    meanY += ys[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - meanX) * (ys[i] - meanY);
    sxx += (xs[i] - meanX) ** 2;
  }
  if (sxx === 0) throw new RangeError('Expected at least two distinct x values to fit a line but all were equal');
  const slope = sxy / sxx;
  return { slope, intercept: meanY - slope * meanX };
}

/**
 * Reduce samples to their lower envelope: the minimum `rss` of each run of `group` consecutive
 * samples (at the group's last `at`; leftover samples join the last group). Resident memory of a healthy process swings by tens of MB
 * between samples (garbage waiting for finalizers, malloc arenas of finished worker threads not
 * yet reused); a leak raises the floor under those swings, so the floor is what is fitted.
 * @param {readonly { at: number, rss: number }[]} samples
 * @param {number} group  Samples per group (1 keeps every sample).
 * @returns {{ at: number, rss: number }[]}
 */
export function lowerEnvelope(samples, group) {
  if (!Number.isInteger(group) || group < 1) {
    throw new RangeError(`Expected a positive integer group size but received ${group}`);
  }
  // Full groups only: a short trailing group (one lone sample, say) joins the group before it,
  // or its "floor" would be a single spike.
  const groups = Math.max(1, Math.floor(samples.length / group));
  const floor = [];
  for (let g = 0; g < groups; g++) {
    const chunk = samples.slice(g * group, g === groups - 1 ? samples.length : (g + 1) * group);
    floor.push({ at: chunk[chunk.length - 1].at, rss: Math.min(...chunk.map((s) => s.rss)) });
  }
  return floor;
}

/**
 * Judge whether memory stayed flat: fit a line through the samples whose `at` lies in the
 * second half of the run (`at >= last.at / 2`; the first half is warm-up: allocator pools,
 * JIT, V8 heap sizing) and extrapolate it over that half.
 * @param {readonly { at: number, rss: number }[]} samples  `at`: progress (frames or trackers), ascending; `rss`: bytes.
 * @param {number} budgetBytes  Growth over the second half above which the run fails.
 * @returns {{ slopeBytesPerUnit: number, growthBytes: number, span: number, samplesUsed: number, flat: boolean }}
 */
export function judgeTrend(samples, budgetBytes) {
  if (samples.length === 0) throw new RangeError('Expected memory samples but received none');
  const last = samples[samples.length - 1];
  const half = samples.filter((s) => s.at >= last.at / 2);
  const { slope } = fitLine(
    half.map((s) => s.at),
    half.map((s) => s.rss),
  );
  const span = last.at - (half[0]?.at ?? last.at);
  const growthBytes = slope * span;
  return { slopeBytesPerUnit: slope, growthBytes, span, samplesUsed: half.length, flat: growthBytes <= budgetBytes };
}
