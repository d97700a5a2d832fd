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
