/**
 * Floating-point helpers that reproduce how the reference toolkits round, so our numbers are
 * bit-identical to theirs rather than merely close: numpy sums contiguous arrays pairwise,
 * numpy's `linspace` multiplies an index by a step, and pytracking keeps curves in float32.
 */

/** numpy's pairwise block size (`PW_BLOCKSIZE` in numpy's loops_utils). */
const PAIRWISE_BLOCK = 128;

function pairwiseSum(values: ArrayLike<number>, start: number, count: number): number {
  if (count < 8) {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += values[start + i] as number;
    return sum;
  }
  if (count <= PAIRWISE_BLOCK) {
    // Eight running sums, as numpy unrolls the loop; their combination order matters for the last bit.
    let r0 = values[start] as number;
    let r1 = values[start + 1] as number;
    let r2 = values[start + 2] as number;
    let r3 = values[start + 3] as number;
    let r4 = values[start + 4] as number;
    let r5 = values[start + 5] as number;
    let r6 = values[start + 6] as number;
    let r7 = values[start + 7] as number;
    let i = 8;
    const unrolledEnd = count - (count % 8);
    for (; i < unrolledEnd; i += 8) {
      const k = start + i;
      r0 += values[k] as number;
      r1 += values[k + 1] as number;
      r2 += values[k + 2] as number;
      r3 += values[k + 3] as number;
      r4 += values[k + 4] as number;
      r5 += values[k + 5] as number;
      r6 += values[k + 6] as number;
      r7 += values[k + 7] as number;
    }
    // prettier-ignore
    let sum = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    for (; i < count; i++) sum += values[start + i] as number;
    return sum;
  }
  let half = Math.floor(count / 2);
  half -= half % 8;
  return pairwiseSum(values, start, half) + pairwiseSum(values, start + half, count - half);
}

/** Sum of `values` exactly as `numpy.sum` computes it on a contiguous float64 array. */
export function numpySum(values: ArrayLike<number>): number {
  return pairwiseSum(values, 0, values.length);
}

/** Mean of `values` exactly as `numpy.mean` computes it (NaN for an empty array, as numpy). */
export function numpyMean(values: ArrayLike<number>): number {
  return numpySum(values) / values.length;
}

/**
 * Element-wise mean of equal-length rows, as `numpy.mean(rows, axis=0)` computes it: numpy
 * adds the rows one after another for a reduction over the outer axis.
 */
export function numpyMeanRows(rows: readonly (readonly number[])[], length: number): number[] {
  const sum = new Array<number>(length).fill(0);
  for (const row of rows) {
    for (let j = 0; j < length; j++) sum[j] = (sum[j] as number) + (row[j] as number);
  }
  return sum.map((s) => s / rows.length);
}

/** `numpy.linspace(start, stop, count)`: index × step + start, with the last value set to `stop`. */
export function numpyLinspace(start: number, stop: number, count: number): number[] {
  const step = (stop - start) / (count - 1);
  const values = Array.from({ length: count }, (_, i) => i * step + start);
  if (count > 1) values[count - 1] = stop;
  return values;
}

/**
 * For each of the ascending `thresholds`, how many `values` are strictly greater (`'greater'`,
 * success curves) or less than or equal (`'lessEqual'`, precision curves). One binary search
 * per value instead of one pass per threshold; NaN values count nowhere, as numpy's comparisons.
 */
export function countCurve(values: ArrayLike<number>, thresholds: readonly number[], comparison: 'greater' | 'lessEqual'): number[] {
  const m = thresholds.length;
  // histogram[j] = number of values whose first passing (lessEqual) / last passing + 1 (greater) index is j.
  const histogram = new Array<number>(m + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    // lo = number of thresholds t with t < v (greater) or t < v (lessEqual: first index with t >= v).
    let lo = 0;
    let hi = m;
    if (Number.isNaN(v)) {
      lo = comparison === 'greater' ? 0 : m;
    } else {
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((thresholds[mid] as number) < v) lo = mid + 1;
        else hi = mid;
      }
    }
    histogram[lo] = (histogram[lo] as number) + 1;
  }
  const counts = new Array<number>(m).fill(0);
  if (comparison === 'greater') {
    // v > t_k  ⇔  k < lo(v): count_k = #values with lo > k (suffix sums).
    let running = 0;
    for (let k = m - 1; k >= 0; k--) {
      running += histogram[k + 1] as number;
      counts[k] = running;
    }
  } else {
    // v <= t_k  ⇔  k >= lo(v): count_k = #values with lo <= k (prefix sums).
    let running = 0;
    for (let k = 0; k < m; k++) {
      running += histogram[k] as number;
      counts[k] = running;
    }
  }
  return counts;
}

/** {@link countCurve} divided by the number of values, as `numpy.mean` of the boolean matrix. */
export function fractionCurve(values: ArrayLike<number>, thresholds: readonly number[], comparison: 'greater' | 'lessEqual'): number[] {
  return countCurve(values, thresholds, comparison).map((c) => c / values.length);
}

/** Fraction of `values` for which `test` holds, as `numpy.mean` of a boolean array. */
export function fractionWhere(values: readonly number[], test: (value: number) => boolean): number {
  let count = 0;
  for (const v of values) if (test(v)) count++;
  return count / values.length;
}

/** Element type of a torch tensor being reduced: float32 rounds after every addition. */
export type TorchFloatType = 'float32' | 'float64';

function rounder(dtype: TorchFloatType): (value: number) => number {
  return dtype === 'float32' ? Math.fround : (value) => value;
}

function ceilLog2(x: number): number {
  return x <= 2 ? 1 : Math.floor(Math.log2(x - 1)) + 1;
}

/**
 * torch's `multi_row_sum` for one column (ATen SumKernel.cpp): a 4-level cascade that adds
 * blocks of 2^p values and carries each finished block up a level.
 */
function torchCascadeSum(values: readonly number[], round: (value: number) => number): number {
  const levels = 4;
  const power = Math.max(4, Math.floor(ceilLog2(values.length) / levels));
  const step = 1 << power;
  const mask = step - 1;
  const acc = [0, 0, 0, 0];
  let i = 0;
  while (i + step <= values.length) {
    for (let j = 0; j < step; j++, i++) acc[0] = round((acc[0] as number) + (values[i] as number));
    for (let j = 1; j < levels; j++) {
      acc[j] = round((acc[j] as number) + (acc[j - 1] as number));
      acc[j - 1] = 0;
      if ((i & (mask << (j * power))) !== 0) break;
    }
  }
  for (; i < values.length; i++) acc[0] = round((acc[0] as number) + (values[i] as number));
  for (let j = 1; j < levels; j++) acc[0] = round((acc[0] as number) + (acc[j] as number));
  return acc[0] as number;
}

/** torch's `row_sum`: four interleaved cascades (instruction-level parallelism), the tail, then the four partials. */
function torchRowSum(values: readonly number[], round: (value: number) => number): number {
  const ilp = 4;
  const rows = Math.floor(values.length / ilp);
  const partial = Array.from({ length: ilp }, (_, k) =>
    torchCascadeSum(
      Array.from({ length: rows }, (_, i) => values[i * ilp + k] as number),
      round,
    ),
  );
  for (let i = rows * ilp; i < values.length; i++) partial[0] = round((partial[0] as number) + (values[i] as number));
  for (let k = 1; k < ilp; k++) partial[0] = round((partial[0] as number) + (partial[k] as number));
  return partial[0] as number;
}

/**
 * Sum of a contiguous 1-D tensor exactly as torch (1.13, CPU, AVX2 dispatch) computes it:
 * SIMD lanes of 8 float32 or 4 float64 values each run {@link torchRowSum} over their share,
 * then the tail elements and the lanes are added in order. Verified bit-exact against torch
 * on random inputs; other SIMD widths (AVX-512 builds) can differ in the last bit.
 */
export function torchSum(values: readonly number[], dtype: TorchFloatType): number {
  const round = rounder(dtype);
  const lanes = dtype === 'float32' ? 8 : 4;
  if (values.length < lanes) return torchRowSum(values, round);
  const vectors = Math.floor(values.length / lanes);
  const laneSums = Array.from({ length: lanes }, (_, l) =>
    torchRowSum(
      Array.from({ length: vectors }, (_, i) => values[i * lanes + l] as number),
      round,
    ),
  );
  let sum = 0;
  for (let k = vectors * lanes; k < values.length; k++) sum = round(sum + (values[k] as number));
  for (const laneSum of laneSums) sum = round(sum + laneSum);
  return sum;
}

/** `tensor.mean()` of a contiguous 1-D tensor: {@link torchSum} divided by the count (NaN when empty). */
export function torchMean(values: readonly number[], dtype: TorchFloatType): number {
  return rounder(dtype)(torchSum(values, dtype) / values.length);
}

/**
 * `tensor.mean(0)` of a row-major float matrix (rows × length): torch's outer reduction
 * (ATen `vectorized_outer_sum` / `scalar_outer_sum`) sums whole blocks of columns — 32 at a
 * time with AVX2 float32, 4 at a time below 8 columns — with the plain cascade, and the
 * leftover columns with {@link torchRowSum}; then it divides by the number of rows.
 */
export function torchMeanOverRows(rows: readonly (readonly number[])[], length: number, dtype: TorchFloatType): number[] {
  const round = rounder(dtype);
  const lanes = dtype === 'float32' ? 8 : 4;
  const block = length >= lanes ? 4 * lanes : 4;
  const blockedColumns = Math.floor(length / block) * block;
  return Array.from({ length }, (_, j) => {
    const column = rows.map((r) => r[j] as number);
    const sum = j < blockedColumns ? torchCascadeSum(column, round) : torchRowSum(column, round);
    return round(sum / rows.length);
  });
}
