/**
 * A deterministic Engine for the pure-TypeScript tracker tests (test-only, never exported
 * from lib/). It "sees" a known ground-truth trajectory: each frame carries its index in its
 * first four bytes, `encode` remembers which frame and which crop went into each feature slot,
 * and `decode` answers, for every slot of the window, the ground-truth box of that frame in the
 * normalized coordinates of the crop the frame was *encoded with*, perturbed by a
 * deterministic error, quantized to tokens. Each frame gets a deterministic score from the
 * call's noise seed; the error shrinks as the score grows (error = (1 − score) × maxError),
 * so preferring higher scores makes boxes more accurate, as it should with a real model.
 *
 * Because the answer is expressed in the crop used at encode time, a tracker that decodes a
 * frame with stale features (encoded with another crop than the clip's) maps it back wrongly,
 * which the tests can see. Every call is recorded so tests can assert the window schedule.
 */
import type { CropParams, DecodeRequest, DecodeResult, Engine, EngineModelInfo, Frame } from '../../lib/engine/types.js';
import { NativeError } from '../../lib/errors.js';
import type { Box } from '../../lib/geometry/box.js';
import { imageToCrop } from '../../lib/geometry/crop.js';
import { boxToTokens } from '../../lib/model/tokenizer.js';

/** The tiny model's sizes (docs/model-contract.md), used unless a test overrides them. */
export const TEST_MODEL: Readonly<EngineModelInfo> = Object.freeze({
  name: 'test',
  searchSize: 128,
  templateSize: 64,
  searchFactor: 4,
  templateFactor: 2,
  clipLength: 6,
  bins: 400,
  rangeMin: -0.5,
  rangeMax: 1.5,
  diffusionSteps: 1000,
  tNew: 999,
  tRefine: 500,
});

/** A frame whose first four bytes hold `index` (little endian); the rest is a constant grey. */
export function makeTestFrame(index: number, width = 320, height = 240, format: Frame['format'] = 'rgb'): Frame {
  const channels = format === 'gray' ? 1 : format === 'rgba' ? 4 : 3;
  const data = new Uint8Array(width * height * channels).fill(128);
  new DataView(data.buffer).setUint32(0, index, true);
  return { data, width, height, format };
}

/** The index stored in a frame by {@link makeTestFrame}. */
export function frameIndexOf(frame: Frame): number {
  return new DataView(frame.data.buffer, frame.data.byteOffset, 4).getUint32(0, true);
}

/** What the test engine's decode produces for one frame of one call. */
export interface TestEstimate {
  /** Frame score (0..1), written to all four coordinates. */
  score: number;
  /** Error added to x1, y1, x2, y2 in normalized crop units. */
  error: [number, number, number, number];
}

/** Context given to {@link TestEngineOptions.estimate}. */
export interface EstimateContext {
  frameIndex: number;
  /** Position in the window. */
  position: number;
  timestep: number;
  seed: bigint;
  /** Index of this decode call (0, 1, …). */
  call: number;
}

/** Options of {@link TestEngine}. */
export interface TestEngineOptions {
  /** Ground-truth box of each frame index. */
  groundTruth: readonly Box[];
  /** Model sizes. Default: {@link TEST_MODEL}. */
  model?: Partial<EngineModelInfo>;
  /** Largest per-coordinate error (normalized crop units) at score 0. Default: 0.05. */
  maxError?: number;
  /** Override the score and error model. */
  estimate?: (ctx: EstimateContext) => TestEstimate;
  /** Make every call take this long (ms), so overlapping calls would be caught. Default: 0. */
  delayMs?: number;
}

/** One recorded engine call. */
export type TestEngineCall =
  | { method: 'setTemplate'; index: 0 | 1; frameIndex: number; crop: CropParams }
  | { method: 'encode'; frameIndices: number[]; crops: CropParams[]; slots: number[] }
  | {
      method: 'decode';
      slots: number[];
      /** Frame index held by each slot at decode time. */
      frameIndices: number[];
      /** Crop each slot's features were encoded with. */
      crops: CropParams[];
      /** Dynamic-template frame each slot's features were encoded with. */
      templateFrames: number[];
      tokens: number[];
      timesteps: number[];
      seed: bigint;
      result: DecodeResult;
    }
  | { method: 'dispose' };

type Method = 'setTemplate' | 'encode' | 'decode';

/** Uniform value in [0, 1) from integer keys (a small integer hash; quality is ample for tests). */
function hashUnit(...keys: (number | bigint)[]): number {
  let h = 0x811c9dc5;
  for (const key of keys) {
    const s = String(key);
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
    h ^= h >>> 15;
  }
  return (h >>> 0) / 2 ** 32;
}

/** The deterministic engine. */
export class TestEngine implements Engine {
  readonly backend = 'test';
  readonly model: EngineModelInfo;
  /** Every call received, in order. */
  readonly calls: TestEngineCall[] = [];
  readonly #groundTruth: readonly Box[];
  readonly #maxError: number;
  readonly #estimate: ((ctx: EstimateContext) => TestEstimate) | undefined;
  readonly #slots = new Map<number, { frameIndex: number; crop: CropParams; templateFrame: number }>();
  readonly #templates: [number, number] = [-1, -1];
  readonly #failures = new Map<Method, { when: (frameIndices: number[]) => boolean; error: Error }>();
  readonly #delayMs: number;
  #busy = false;
  #decodeCalls = 0;
  /** Number of dispose() calls. */
  disposeCount = 0;

  constructor(options: TestEngineOptions) {
    this.model = { ...TEST_MODEL, ...options.model };
    this.#groundTruth = options.groundTruth;
    this.#maxError = options.maxError ?? 0.05;
    this.#estimate = options.estimate;
    this.#delayMs = options.delayMs ?? 0;
  }

  /** Run a call body, rejecting if another call is still running (the Engine contract forbids overlap). */
  async #exclusive<T>(body: () => T): Promise<T> {
    if (this.#busy) throw new NativeError('overlapping engine calls');
    this.#busy = true;
    try {
      if (this.#delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
      return body();
    } finally {
      this.#busy = false;
    }
  }

  /** Make the next call of `method` reject with `error` (once). */
  failNext(method: Method, error: Error = new NativeError(`injected ${method} failure`)): void {
    this.failWhen(method, () => true, error);
  }

  /**
   * Make the first later call of `method` whose frames satisfy `when` reject with `error`
   * (once). The frames are those encoded, decoded, or the template frame.
   */
  failWhen(method: Method, when: (frameIndices: number[]) => boolean, error: Error = new NativeError(`injected ${method} failure`)): void {
    this.#failures.set(method, { when, error });
  }

  /** Calls of one method, typed. */
  callsOf<M extends TestEngineCall['method']>(method: M): Extract<TestEngineCall, { method: M }>[] {
    return this.calls.filter((c): c is Extract<TestEngineCall, { method: M }> => c.method === method);
  }

  #maybeFail(method: Method, frameIndices: number[]): void {
    const failure = this.#failures.get(method);
    if (failure?.when(frameIndices)) {
      this.#failures.delete(method);
      throw failure.error;
    }
  }

  #checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= 2 * this.model.clipLength) {
      throw new NativeError(`slot ${slot} out of range [0, ${2 * this.model.clipLength})`);
    }
  }

  setTemplate(index: 0 | 1, frame: Frame, crop: CropParams): Promise<void> {
    return this.#exclusive(() => this.#setTemplate(index, frame, crop));
  }

  encode(frames: Frame[], crops: CropParams[], slots: number[]): Promise<void> {
    return this.#exclusive(() => this.#encode(frames, crops, slots));
  }

  decode(request: DecodeRequest): Promise<DecodeResult> {
    return this.#exclusive(() => this.#decode(request));
  }

  #setTemplate(index: 0 | 1, frame: Frame, crop: CropParams): void {
    const frameIndex = frameIndexOf(frame);
    this.#maybeFail('setTemplate', [frameIndex]);
    this.calls.push({ method: 'setTemplate', index, frameIndex, crop: { ...crop } });
    this.#templates[index] = frameIndex;
  }

  #encode(frames: Frame[], crops: CropParams[], slots: number[]): void {
    if (frames.length !== crops.length || frames.length !== slots.length) throw new NativeError('encode: length mismatch');
    const frameIndices = frames.map(frameIndexOf);
    this.#maybeFail('encode', frameIndices);
    this.calls.push({ method: 'encode', frameIndices, crops: crops.map((c) => ({ ...c })), slots: [...slots] });
    slots.forEach((slot, i) => {
      this.#checkSlot(slot);
      this.#slots.set(slot, { frameIndex: frameIndices[i] as number, crop: { ...(crops[i] as CropParams) }, templateFrame: this.#templates[1] });
    });
  }

  #decode(request: DecodeRequest): DecodeResult {
    const n = request.slots.length;
    this.#maybeFail('decode', request.slots.map((slot) => this.#slots.get(slot)?.frameIndex ?? -1));
    if (n < 1 || n > this.model.clipLength) throw new NativeError(`decode: ${n} slots, expected 1..${this.model.clipLength}`);
    if (request.tokens.length !== 4 * n || request.timesteps.length !== n) throw new NativeError('decode: length mismatch');
    const call = this.#decodeCalls++;
    const tokens = new Int32Array(4 * n);
    const scores = new Float32Array(4 * n);
    const held = request.slots.map((slot) => {
      this.#checkSlot(slot);
      const record = this.#slots.get(slot);
      if (!record) throw new NativeError(`decode: slot ${slot} was never encoded`);
      return record;
    });
    held.forEach((record, i) => {
      const gt = this.#groundTruth[record.frameIndex];
      if (!gt) throw new NativeError(`no ground truth for frame ${record.frameIndex}`);
      const ctx: EstimateContext = {
        frameIndex: record.frameIndex,
        position: i,
        timestep: request.timesteps[i] as number,
        seed: request.seed,
        call,
      };
      const { score, error } = this.#estimate?.(ctx) ?? this.#defaultEstimate(ctx);
      const c = imageToCrop(gt, record.crop);
      const x1 = c.x + error[0];
      const y1 = c.y + error[1];
      const perturbed = { x: x1, y: y1, width: c.x + c.width + error[2] - x1, height: c.y + c.height + error[3] - y1 };
      tokens.set(boxToTokens(perturbed, { bins: this.model.bins, rangeMin: this.model.rangeMin, rangeMax: this.model.rangeMax }), 4 * i);
      scores.fill(score, 4 * i, 4 * i + 4);
    });
    const result = { tokens, scores };
    this.calls.push({
      method: 'decode',
      slots: [...request.slots],
      frameIndices: held.map((r) => r.frameIndex),
      crops: held.map((r) => ({ ...r.crop })),
      templateFrames: held.map((r) => r.templateFrame),
      tokens: [...request.tokens],
      timesteps: [...request.timesteps],
      seed: request.seed,
      result: { tokens: tokens.slice(), scores: scores.slice() },
    });
    return result;
  }

  #defaultEstimate(ctx: EstimateContext): TestEstimate {
    const score = 0.2 + 0.75 * hashUnit(ctx.seed, ctx.frameIndex, 0);
    const scale = (1 - score) * this.#maxError;
    const error = [1, 2, 3, 4].map((j) => scale * (2 * hashUnit(ctx.seed, ctx.frameIndex, j) - 1)) as TestEstimate['error'];
    return { score, error };
  }

  async dispose(): Promise<void> {
    this.disposeCount++;
    this.calls.push({ method: 'dispose' });
  }
}

/** Ground truth of a synthetic sequence on a 320×240 image: a box drifting right and down while growing. */
export function syntheticTrajectory(frames: number): Box[] {
  return Array.from({ length: frames }, (_, k) => ({
    x: 60 + 4 * k + 8 * Math.sin(k / 4),
    y: 50 + 2 * k,
    width: 40 + 0.3 * k,
    height: 30 + 0.2 * k,
  }));
}

/** Intersection over union of two boxes. */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  const inter = Math.max(0, w) * Math.max(0, h);
  return inter / (a.width * a.height + b.width * b.height - inter);
}
