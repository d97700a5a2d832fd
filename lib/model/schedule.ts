/**
 * The diffusion noise schedule and the DDIM update, in float64 like the reference
 * (docs/model-contract.md, "Schedule"). Engines compute abar(t) themselves; this module is
 * what the TypeScript side and the tests use to agree with them.
 */
import { InvalidArgumentError } from '../errors.js';
import { describeReceived } from '../geometry/describe.js';

/** A cosine noise schedule over T steps. */
export interface CosineSchedule {
  /** Number of diffusion steps; timesteps are 0 … T − 1. */
  T: number;
  /** Offset s of the cosine (Nichol & Dhariwal). */
  s: number;
  /** beta_t for t = 0 … T − 1. */
  betas: Float64Array;
  /** abar(t) = prod_{i ≤ t} (1 − beta_i) for t = 0 … T − 1. */
  alphasCumprod: Float64Array;
}

/**
 * The cosine schedule as DiffuSeq's `betas_for_alpha_bar` builds it:
 * f(u) = cos²((u + s)/(1 + s) · π/2), beta_i = min(1 − f((i + 1)/T)/f(i/T), 0.999),
 * abar = cumprod(1 − beta). The 0.999 cap keeps the last step from destroying all signal
 * numerically (f(1) ≈ 0).
 * @param T - Number of steps (positive integer). Default: 1000.
 * @param s - Cosine offset (finite, ≥ 0). Default: 0.008.
 * @throws InvalidArgumentError for a bad T or s.
 */
export function cosineSchedule(T = 1000, s = 0.008): CosineSchedule {
  if (!Number.isInteger(T) || T <= 0) {
    throw new InvalidArgumentError(`Expected a positive integer number of diffusion steps but received ${describeReceived(T)}`);
  }
  if (!Number.isFinite(s) || s < 0) {
    throw new InvalidArgumentError(`Expected a finite non-negative cosine offset s but received ${describeReceived(s)}`);
  }
  const f = (u: number): number => Math.cos(((u + s) / (1 + s)) * Math.PI / 2) ** 2;
  const betas = new Float64Array(T);
  const alphasCumprod = new Float64Array(T);
  let product = 1;
  for (let i = 0; i < T; i++) {
    const beta = Math.min(1 - f((i + 1) / T) / f(i / T), 0.999);
    betas[i] = beta;
    product *= 1 - beta;
    alphasCumprod[i] = product;
  }
  return { T, s, betas, alphasCumprod };
}

/**
 * abar(t) of a schedule.
 * @throws InvalidArgumentError unless t is an integer in [0, T − 1].
 */
export function alphaBar(schedule: CosineSchedule, t: number): number {
  if (!Number.isInteger(t) || t < 0 || t >= schedule.T) {
    throw new InvalidArgumentError(`Expected an integer timestep in [0, ${schedule.T - 1}] but received ${describeReceived(t)}`);
  }
  return schedule.alphasCumprod[t] as number;
}

function requireAlphaBar(value: number, name: string, allowOne: boolean): void {
  const ok = Number.isFinite(value) && value > 0 && (allowOne ? value <= 1 : value < 1);
  if (!ok) {
    throw new InvalidArgumentError(`Expected ${name} in (0, 1${allowOne ? ']' : ')'} but received ${describeReceived(value)}`);
  }
}

function requireSameLength(a: ArrayLike<number>, b: ArrayLike<number>, names: string): void {
  if (a.length !== b.length) {
    throw new InvalidArgumentError(`Expected ${names} of equal length but received ${a.length} and ${b.length}`);
  }
}

function outputArray(out: Float32Array | undefined, length: number): Float32Array {
  if (out === undefined) return new Float32Array(length);
  if (out.length !== length) {
    throw new InvalidArgumentError(`Expected an output array of length ${length} but received ${out.length}`);
  }
  return out;
}

/**
 * Forward noising x_t = sqrt(abar)·x0 + sqrt(1 − abar)·eps, element-wise (float64 arithmetic,
 * float32 result).
 * @param abar - abar(t), in [0, 1].
 * @param out - Optional output of the same length (may alias x0 or eps).
 * @throws InvalidArgumentError on a length mismatch or abar outside [0, 1].
 */
export function qSample(x0: Float32Array, eps: Float32Array, abar: number, out?: Float32Array): Float32Array {
  requireSameLength(x0, eps, 'x0 and eps');
  if (!Number.isFinite(abar) || abar < 0 || abar > 1) {
    throw new InvalidArgumentError(`Expected abar in [0, 1] but received ${describeReceived(abar)}`);
  }
  const result = outputArray(out, x0.length);
  const signal = Math.sqrt(abar);
  const noise = Math.sqrt(1 - abar);
  for (let i = 0; i < x0.length; i++) result[i] = signal * (x0[i] as number) + noise * (eps[i] as number);
  return result;
}

/**
 * DiffusionDet's DDIM time pairs: times = reversed(int(linspace(−1, T − 1, steps + 1))),
 * pairs = zip(times[:-1], times[1:]). With one step the only pair is [T − 1, −1]: start at
 * pure noise and take the network's x0 estimate. The linspace is evaluated exactly in integer
 * arithmetic (−1 + i·T/steps, truncated toward zero like `Tensor.int()`).
 * @param steps - Sampling steps (integer in [1, T]). Default: 1.
 * @throws InvalidArgumentError for a bad T or steps.
 */
export function ddimTimesteps(T: number, steps = 1): Array<[number, number]> {
  if (!Number.isInteger(T) || T <= 0) {
    throw new InvalidArgumentError(`Expected a positive integer number of diffusion steps but received ${describeReceived(T)}`);
  }
  if (!Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new InvalidArgumentError(`Expected an integer number of sampling steps in [1, ${T}] but received ${describeReceived(steps)}`);
  }
  const times: number[] = [];
  // −1 + i·T/steps = (i·T − steps)/steps; integers stay exact far beyond any realistic T.
  for (let i = steps; i >= 0; i--) times.push(Math.trunc((i * T - steps) / steps));
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i + 1 < times.length; i++) pairs.push([times[i] as number, times[i + 1] as number]);
  return pairs;
}

/**
 * One deterministic DDIM update (eta = 0): eps_hat = (x_t/sqrt(abarT) − x0hat)/sqrt(1/abarT − 1),
 * x_next = sqrt(abarNext)·x0hat + sqrt(1 − abarNext)·eps_hat. When the next time is below 0
 * (`abarNext` null) the result is x0hat itself, as in DiffusionDet's sampler.
 * @param abarT - abar at the current time, in (0, 1).
 * @param abarNext - abar at the next time, in (0, 1], or null when tNext < 0.
 * @param out - Optional output of the same length (may alias xt or x0hat).
 * @throws InvalidArgumentError on a length mismatch or abar out of range.
 */
export function ddimStep(
  xt: Float32Array,
  x0hat: Float32Array,
  abarT: number,
  abarNext: number | null,
  out?: Float32Array,
): Float32Array {
  requireSameLength(xt, x0hat, 'xt and x0hat');
  requireAlphaBar(abarT, 'abarT', false);
  const result = outputArray(out, xt.length);
  if (abarNext === null) {
    result.set(x0hat);
    return result;
  }
  requireAlphaBar(abarNext, 'abarNext', true);
  const recipSqrt = 1 / Math.sqrt(abarT);
  const recipM1Sqrt = Math.sqrt(1 / abarT - 1);
  const signal = Math.sqrt(abarNext);
  const noise = Math.sqrt(1 - abarNext);
  for (let i = 0; i < xt.length; i++) {
    const x0 = x0hat[i] as number;
    const epsHat = (recipSqrt * (xt[i] as number) - x0) / recipM1Sqrt;
    result[i] = signal * x0 + noise * epsHat;
  }
  return result;
}
