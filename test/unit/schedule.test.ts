import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../lib/errors.js';
import { alphaBar, cosineSchedule, ddimStep, ddimTimesteps, qSample } from '../../lib/model/schedule.js';

interface Golden {
  schedules: Array<{ T: number; s: number; t: number[]; betas: number[]; alphas_cumprod: number[] }>;
  ddim_pairs: Array<{ T: number; steps: number; pairs: Array<[number, number]> }>;
  q_sample: Array<{ t: number; x0: number[]; eps: number[]; xt: number[] }>;
  ddim_step: { t: number; t_next: number; xt: number[]; x0hat: number[]; x_next: number[] };
}

// Numbers printed by scripts/make-schedule-fixture.py (DiffuSeq's recipe in numpy, DiffusionDet's
// time pairs in torch), independent of the code under test.
const golden = JSON.parse(readFileSync(new URL('../fixtures/schedule-golden.json', import.meta.url), 'utf8')) as Golden;

describe('cosineSchedule', () => {
  it.each(golden.schedules.map((g) => [g.T, g.s, g] as const))('matches the numpy reference for T=%i, s=%f to 1e-12', (T, s, g) => {
    const schedule = cosineSchedule(T, s);
    expect(schedule.T).toBe(T);
    expect(schedule.betas).toHaveLength(T);
    expect(schedule.alphasCumprod).toHaveLength(T);
    g.t.forEach((t, i) => {
      expect(Math.abs((schedule.betas[t] as number) - (g.betas[i] as number))).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(alphaBar(schedule, t) - (g.alphas_cumprod[i] as number))).toBeLessThanOrEqual(1e-12);
      // abar spans ~9 decades; also hold the tail to a relative bound.
      expect(Math.abs(alphaBar(schedule, t) / (g.alphas_cumprod[i] as number) - 1)).toBeLessThanOrEqual(1e-12);
    });
  });

  it('defaults to T = 1000, s = 0.008 and has the schedule shape by hand', () => {
    const schedule = cosineSchedule();
    expect(schedule.T).toBe(1000);
    expect(schedule.s).toBe(0.008);
    const { betas, alphasCumprod } = schedule;
    // f(1) = cos²(π/2) ≈ 0, so the last beta is the 0.999 cap.
    expect(betas[999]).toBe(0.999);
    expect(alphasCumprod[0]).toBeCloseTo(1 - (betas[0] as number), 15);
    // beta_0 = 1 − f(1/T)/f(0) by hand.
    const f = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    expect(betas[0]).toBeCloseTo(1 - f(0.001) / f(0), 14);
    // Without the cap, abar(t) = f((t + 1)/T)/f(0): check the middle.
    expect(alphasCumprod[499]).toBeCloseTo(f(0.5) / f(0), 12);
    for (let t = 1; t < 1000; t++) {
      expect(alphasCumprod[t]).toBeLessThan(alphasCumprod[t - 1] as number);
      expect(betas[t]).toBeGreaterThan(0);
    }
    expect(alphasCumprod[999]).toBeGreaterThan(0);
  });

  it('rejects a bad T or s with typed errors', () => {
    expect(() => cosineSchedule(0)).toThrow(new InvalidArgumentError('Expected a positive integer number of diffusion steps but received 0'));
    expect(() => cosineSchedule(10.5)).toThrow(InvalidArgumentError);
    expect(() => cosineSchedule(10, -1)).toThrow('Expected a finite non-negative cosine offset s but received -1');
    expect(() => cosineSchedule(10, Number.NaN)).toThrow(InvalidArgumentError);
  });

  it('alphaBar rejects timesteps outside [0, T-1]', () => {
    const schedule = cosineSchedule(10);
    expect(() => alphaBar(schedule, 10)).toThrow('Expected an integer timestep in [0, 9] but received 10');
    expect(() => alphaBar(schedule, -1)).toThrow(InvalidArgumentError);
    expect(() => alphaBar(schedule, 1.5)).toThrow(InvalidArgumentError);
  });
});

describe('qSample', () => {
  const schedule = cosineSchedule();
  it.each(golden.q_sample.map((g) => [g.t, g] as const))('matches the numpy reference at t=%i', (t, g) => {
    const xt = qSample(Float32Array.from(g.x0), Float32Array.from(g.eps), alphaBar(schedule, t));
    expect(Array.from(xt)).toEqual(Array.from(Float32Array.from(g.xt)));
  });

  it('is x0 at abar = 1 and eps at abar = 0, and can write in place', () => {
    const x0 = Float32Array.from([1, -2, 3]);
    const eps = Float32Array.from([0.5, 0.25, -4]);
    expect(Array.from(qSample(x0, eps, 1))).toEqual([1, -2, 3]);
    expect(Array.from(qSample(x0, eps, 0))).toEqual([0.5, 0.25, -4]);
    const out = qSample(x0, eps, 0.25, x0);
    expect(out).toBe(x0);
    expect(Array.from(out)).toEqual([0.5 + Math.sqrt(0.75) * 0.5, -1 + Math.sqrt(0.75) * 0.25, 1.5 - Math.sqrt(0.75) * 4].map(Math.fround));
  });

  it('rejects mismatched lengths and abar outside [0, 1]', () => {
    expect(() => qSample(new Float32Array(2), new Float32Array(3), 0.5)).toThrow('Expected x0 and eps of equal length but received 2 and 3');
    expect(() => qSample(new Float32Array(2), new Float32Array(2), 1.5)).toThrow('Expected abar in [0, 1] but received 1.5');
    expect(() => qSample(new Float32Array(2), new Float32Array(2), 0.5, new Float32Array(1))).toThrow(InvalidArgumentError);
  });
});

describe('ddimTimesteps', () => {
  it('gives the single pair [T-1, -1] for one step (the default)', () => {
    expect(ddimTimesteps(1000)).toEqual([[999, -1]]);
    expect(ddimTimesteps(1000, 1)).toEqual([[999, -1]]);
  });

  it.each(golden.ddim_pairs.map((g) => [g.T, g.steps, g.pairs] as const))('matches DiffusionDet (torch) for T=%i, steps=%i', (T, steps, pairs) => {
    expect(ddimTimesteps(T, steps)).toEqual(pairs);
  });

  it('rejects steps outside [1, T]', () => {
    expect(() => ddimTimesteps(10, 0)).toThrow('Expected an integer number of sampling steps in [1, 10] but received 0');
    expect(() => ddimTimesteps(10, 11)).toThrow(InvalidArgumentError);
    expect(() => ddimTimesteps(-5)).toThrow(InvalidArgumentError);
  });
});

describe('ddimStep', () => {
  const schedule = cosineSchedule();

  it('matches the numpy reference for an eta = 0 step from t=500 to t=100', () => {
    const g = golden.ddim_step;
    const next = ddimStep(Float32Array.from(g.xt), Float32Array.from(g.x0hat), alphaBar(schedule, g.t), alphaBar(schedule, g.t_next));
    const expected = Float32Array.from(g.x_next);
    next.forEach((v, i) => expect(Math.abs(v - (expected[i] as number))).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(expected[i] as number))));
  });

  it('returns x0hat when the next time is below zero (single-step sampling)', () => {
    const x0hat = Float32Array.from([0.1, 0.2, -0.3]);
    const result = ddimStep(Float32Array.from([5, 6, 7]), x0hat, alphaBar(schedule, 999), null);
    expect(Array.from(result)).toEqual(Array.from(x0hat));
    expect(result).not.toBe(x0hat);
  });

  it('recovers the noise it was given: noising x0 to t then stepping with the true x0 lands on q_sample at tNext', () => {
    const x0 = Float32Array.from([0.3, -1.2, 2.5, 0]);
    const eps = Float32Array.from([1.1, 0.4, -0.7, 2]);
    const abarT = alphaBar(schedule, 700);
    const abarNext = alphaBar(schedule, 300);
    const xt = qSample(x0, eps, abarT);
    const stepped = ddimStep(xt, x0, abarT, abarNext);
    const direct = qSample(x0, eps, abarNext);
    stepped.forEach((v, i) => expect(v).toBeCloseTo(direct[i] as number, 5));
  });

  it('rejects abar outside its range and mismatched lengths', () => {
    const a = new Float32Array(2);
    expect(() => ddimStep(a, a, 1, 0.5)).toThrow('Expected abarT in (0, 1) but received 1');
    expect(() => ddimStep(a, a, 0.5, 0)).toThrow('Expected abarNext in (0, 1] but received 0');
    expect(() => ddimStep(a, new Float32Array(3), 0.5, 0.9)).toThrow('Expected xt and x0hat of equal length but received 2 and 3');
  });
});
