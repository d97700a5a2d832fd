/**
 * The Tracker: follows one object through a video with SCT-Diff's sliding window.
 *
 * Every public call is queued and runs in call order, one at a time, so calls made without
 * awaiting the previous one are safe and resolve in order. A call whose engine work fails
 * rejects and leaves the tracker as if the call had not been made (see docs/tracking.md).
 */
import { createEngine } from '../engine/create.js';
import { EngineGroup } from '../engine/group.js';
import type { CropParams, EngineModelInfo, Engine, Frame } from '../engine/types.js';
import { DisposedError, InvalidArgumentError, InvalidBoxError, InvalidFrameError, NativeError, NotInitializedError } from '../errors.js';
import { type Box, boxIntersectsImage, validateBox } from '../geometry/box.js';
import { describeReceived } from '../geometry/describe.js';
import type { TokenizerConfig } from '../model/tokenizer.js';
import { copyFrame, validateFrame } from './frame.js';
import { type ResolvedTrackerOptions, type TrackerLogLevel, type TrackerOptions, resolveTrackerOptions } from './options.js';
import {
  type DecodedEstimate,
  cropWithinTolerance,
  decodedEstimate,
  meanBox,
  priorTokens,
  searchCropFor,
  templateCropFor,
  tokenizerOf,
} from './reference.js';
import { type StoredEstimate, refineWindow } from './refinement.js';
import { chooseTemplateFrame } from './template.js';
import { type WindowPlan, decodeSeed, featureSlot, isWindowDue, nextWindowStart, planWindow, validateStride, windowTimesteps } from './window.js';

/** A frame's box in the trajectory. */
export interface TrackedFrame {
  /** Index of the frame: 0 is the frame given to `init()`, then 1, 2, … in `track()` order. */
  frameIndex: number;
  /** Box in image pixels (top-left corner and size), clipped to the image. */
  box: Box;
  /** Mean top-1 probability of the box's 4 coordinate tokens (0..1; 1 for the init box). */
  score: number;
}

/** What `track(frame)` resolves to. */
export interface TrackResult extends TrackedFrame {
  /**
   * True when the box came from a provisional decoder call ('frame' latency, the frame did not
   * complete a window); the frame's window estimate arrives later in some result's `revised`.
   */
  provisional: boolean;
  /**
   * Earlier frames whose box changed in this step, oldest first: re-estimated frames whose new
   * score beat the stored one, and (with 'frame' latency) frames whose provisional box was
   * replaced by their window's estimate.
   */
  revised: TrackedFrame[];
}

interface FeatureRecord {
  crop: CropParams;
  templateVersion: number;
}

interface PendingTemplate {
  frameIndex: number;
  frame: Frame;
  box: Box;
}

interface Deferred {
  resolve(result: TrackResult): void;
  reject(error: unknown): void;
}

interface DecodedWindow {
  plan: WindowPlan;
  candidates: DecodedEstimate[];
}

function copyBox(b: Box): Box {
  return { x: b.x, y: b.y, width: b.width, height: b.height };
}

/** A single-object tracker on one compute engine. Create it with {@link Tracker.create}. */
export class Tracker implements AsyncDisposable {
  readonly #engine: Engine;
  readonly #ownsEngine: boolean;
  readonly #options: ResolvedTrackerOptions;
  readonly #model: Readonly<EngineModelInfo>;
  readonly #tokenizer: TokenizerConfig;
  #queue: Promise<void> = Promise.resolve();
  #disposed = false;
  #disposal: Promise<void> | undefined;

  // The sequence being tracked; changed only when a step has fully succeeded.
  #initialized = false;
  #width = 0;
  #height = 0;
  #trajectory: StoredEstimate[] = [];
  #lastEstimated = 0;
  #frameCount = 0;
  #frames = new Map<number, Frame>();
  #reference: Box = { x: 0, y: 0, width: 1, height: 1 };
  #crop: CropParams = { x0: 0, y0: 0, side: 1, outputSize: 1 };
  #provisional = new Map<number, DecodedEstimate>();
  #deferred = new Map<number, Deferred>();

  // What the engine holds; kept in step with each successful engine call.
  #features = new Map<number, FeatureRecord>();
  #templateVersion = 0;
  #templateFrame = 0;
  #pendingTemplate: PendingTemplate | null = null;

  private constructor(engine: Engine, ownsEngine: boolean, options: ResolvedTrackerOptions) {
    this.#engine = engine;
    this.#ownsEngine = ownsEngine;
    this.#options = options;
    // A frozen copy: the sizes must not change under the tracker, nor through its getter.
    this.#model = Object.freeze({ ...engine.model });
    this.#tokenizer = tokenizerOf(this.#model);
  }

  /**
   * Load the model (or take `options.engine`) and make a tracker.
   * @throws InvalidArgumentError for bad options (also a stride above the model's clip length);
   *   ModelLoadError / BackendUnavailableError from loading the engine.
   */
  static async create(options: TrackerOptions = {}): Promise<Tracker> {
    const resolved = resolveTrackerOptions(options);
    const logger = resolved.logger;
    const { group } = options;
    if (group !== undefined && !(group instanceof EngineGroup)) {
      throw new InvalidArgumentError(`Expected an EngineGroup as group but received ${describeReceived(group)}`);
    }
    if (group !== undefined && options.engine !== undefined) {
      throw new InvalidArgumentError('Expected either engine or group but received both');
    }
    const engine =
      options.engine ??
      group?.stream() ??
      (await createEngine({
        model: resolved.model,
        device: resolved.device,
        threads: resolved.threads,
        // The one line device 'auto' prints when it falls back to the CPU goes to our logger if there is one.
        ...(logger ? { logger: (line: string) => logger('warn', line) } : {}),
      }));
    const ownsEngine = options.engine === undefined;
    // An unset stride is 3 or, for a model of shorter windows (a stage-1 model exported with
    // clip length 1), that clip length: the default must work for every valid model.
    if (options.stride === undefined) resolved.stride = Math.min(resolved.stride, engine.model.clipLength);
    try {
      validateStride(resolved.stride, engine.model.clipLength);
    } catch (error) {
      if (ownsEngine) await engine.dispose();
      throw error;
    }
    return new Tracker(engine, ownsEngine, resolved);
  }

  /** Frames the window slides by: the `stride` option, or its default for this model. */
  get stride(): number {
    return this.#options.stride;
  }

  /** Name of the backend running the network ("cpu", "cuda", …). */
  get backend(): string {
    return this.#engine.backend;
  }

  /** Sizes of the loaded model. */
  get model(): Readonly<EngineModelInfo> {
    return this.#model;
  }

  /** Frames received in the current sequence, the init frame included (0 before `init()`). */
  get frameCount(): number {
    return this.#frameCount;
  }

  /**
   * Start a sequence: `frame` is frame 0 and `box` the target in it. Calling `init()` again
   * starts a new sequence (window-latency `track()` calls still waiting reject).
   * @throws InvalidFrameError, InvalidBoxError (also for a box that does not overlap the frame),
   *   DisposedError.
   */
  async init(frame: Frame, box: Box): Promise<void> {
    this.#assertNotDisposed();
    const checked = validateFrame(frame);
    const target = validateBox(box);
    if (!boxIntersectsImage(target, checked.width, checked.height)) {
      throw new InvalidBoxError(
        `Expected box to overlap the ${checked.width}×${checked.height} frame but received ` +
          `{x: ${target.x}, y: ${target.y}, width: ${target.width}, height: ${target.height}}`,
      );
    }
    const copy = copyFrame(checked);
    return this.#enqueue(() => this.#initStep(copy, target));
  }

  /**
   * Give the next frame; resolves with its box (see `latency` in {@link TrackerOptions} for
   * when). Frames must have the size of the init frame.
   * @throws NotInitializedError before `init()`; InvalidFrameError; DisposedError.
   */
  async track(frame: Frame): Promise<TrackResult> {
    this.#assertNotDisposed();
    const copy = copyFrame(validateFrame(frame));
    const { result } = await this.#enqueue(() => this.#trackStep(copy));
    return result;
  }

  /**
   * Decode the last, partial window (if frames are pending) and return the whole trajectory,
   * frame 0 included. Tracking may continue afterwards.
   * @throws NotInitializedError before `init()`; DisposedError.
   */
  async finish(): Promise<TrackedFrame[]> {
    this.#assertNotDisposed();
    return this.#enqueue(async () => {
      this.#assertInitialized('finish()');
      const end = this.#frameCount - 1;
      if (end > this.#lastEstimated) {
        const decoded = await this.#decodeWindow(end, false);
        const revised = this.#commitWindow(decoded);
        this.#resolveDeferred(decoded.plan, end, revised);
      }
      return this.#trajectory.map((e, frameIndex) => ({ frameIndex, box: copyBox(e.box), score: e.score }));
    });
  }

  /**
   * Wait for accepted calls to finish, then release the engine (when the tracker loaded it).
   * Later calls reject with DisposedError. Idempotent.
   */
  dispose(): Promise<void> {
    if (!this.#disposal) {
      this.#disposed = true;
      this.#disposal = (async () => {
        await this.#queue;
        const error = new DisposedError('Tracker');
        for (const d of this.#deferred.values()) d.reject(error);
        this.#deferred.clear();
        this.#frames.clear();
        this.#features.clear();
        this.#pendingTemplate = null;
        this.#initialized = false;
        if (this.#ownsEngine) await this.#engine.dispose();
      })();
    }
    return this.#disposal;
  }

  /** Same as {@link Tracker.dispose}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  #assertNotDisposed(): void {
    if (this.#disposed) throw new DisposedError('Tracker');
  }

  #assertInitialized(call: string): void {
    if (!this.#initialized) throw new NotInitializedError(`Call init(frame, box) before ${call}`);
  }

  #log(level: TrackerLogLevel, message: () => string): void {
    this.#options.logger?.(level, message());
  }

  #enqueue<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(step);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #initStep(frame: Frame, box: Box): Promise<void> {
    const previous = this.#deferred;
    this.#deferred = new Map();
    const restarted = new NotInitializedError('The sequence was restarted by init() before this frame was estimated');
    for (const d of previous.values()) d.reject(restarted);
    this.#initialized = false;
    this.#features.clear();
    this.#pendingTemplate = null;
    const crop = templateCropFor(box, this.#model);
    await this.#engine.setTemplate(0, frame, crop);
    await this.#engine.setTemplate(1, frame, crop);
    this.#templateVersion++;
    this.#templateFrame = 0;
    this.#width = frame.width;
    this.#height = frame.height;
    this.#trajectory = [{ box: copyBox(box), score: 1, locked: true }];
    this.#lastEstimated = 0;
    this.#frameCount = 1;
    this.#frames = new Map([[0, frame]]);
    this.#provisional.clear();
    this.#reference = copyBox(box);
    this.#crop = searchCropFor(box, this.#model);
    this.#dropFramesBefore(nextWindowStart(0, this.#options.stride, this.#model.clipLength));
    this.#initialized = true;
  }

  async #trackStep(frame: Frame): Promise<{ result: Promise<TrackResult> }> {
    this.#assertInitialized('track(frame)');
    if (frame.width !== this.#width || frame.height !== this.#height) {
      throw new InvalidFrameError(
        `Expected a ${this.#width}×${this.#height} frame (the size given to init) but received ${frame.width}×${frame.height}`,
      );
    }
    const k = this.#frameCount;
    const { stride, latency } = this.#options;
    const windowDue = isWindowDue(k - this.#lastEstimated, stride);
    if (!windowDue && latency === 'window') {
      this.#frames.set(k, frame);
      this.#frameCount++;
      return { result: new Promise<TrackResult>((resolve, reject) => this.#deferred.set(k, { resolve, reject })) };
    }
    this.#frames.set(k, frame);
    let decoded: DecodedWindow;
    try {
      decoded = await this.#decodeWindow(k, !windowDue);
    } catch (error) {
      this.#frames.delete(k);
      this.#features.delete(k);
      throw error;
    }
    this.#frameCount++;
    if (!windowDue) {
      const estimate = decoded.candidates[decoded.candidates.length - 1] as DecodedEstimate;
      this.#provisional.set(k, estimate);
      return { result: Promise.resolve({ frameIndex: k, box: copyBox(estimate.box), score: estimate.score, provisional: true, revised: [] }) };
    }
    const revised = this.#commitWindow(decoded);
    this.#resolveDeferred(decoded.plan, k, []);
    const stored = this.#trajectory[k] as StoredEstimate;
    return { result: Promise.resolve({ frameIndex: k, box: copyBox(stored.box), score: stored.score, provisional: false, revised }) };
  }

  /**
   * Encode what the window needs and decode it. Changes only engine-mirroring state
   * (features, templates), so a failure leaves the sequence as it was.
   */
  async #decodeWindow(end: number, provisional: boolean): Promise<DecodedWindow> {
    const model = this.#model;
    const plan = planWindow(this.#lastEstimated, end, this.#options.stride, model.clipLength);
    await this.#applyPendingTemplate();
    await this.#encodeMissing(plan.frames);
    const priorBoxes = plan.frames.map((f, i) =>
      plan.roles[i] === 'refine' ? (this.#trajectory[f] as StoredEstimate).box : this.#reference,
    );
    const tokens = priorTokens(priorBoxes, this.#crop, this.#tokenizer);
    const request = {
      slots: plan.frames.map((f) => featureSlot(f, model.clipLength)),
      tokens,
      timesteps: windowTimesteps(plan.roles, model.tNew, model.tRefine),
      seed: decodeSeed(this.#options.seed, end, provisional),
    };
    const result = await this.#engine.decode(request);
    const n = plan.frames.length;
    if (result.tokens.length !== 4 * n || result.scores.length !== 4 * n) {
      throw new NativeError(
        `Expected ${4 * n} tokens and scores from the decoder but received ${result.tokens.length} tokens and ${result.scores.length} scores`,
      );
    }
    const mapBack = { imageWidth: this.#width, imageHeight: this.#height };
    const candidates = plan.frames.map((_, i) =>
      decodedEstimate(result.tokens, result.scores, tokens, i, this.#crop, this.#tokenizer, mapBack),
    );
    this.#log('debug', () => `decoded ${provisional ? 'provisional ' : ''}window [${plan.frames[0]}..${end}], ${plan.newCount} new`);
    return { plan, candidates };
  }

  async #applyPendingTemplate(): Promise<void> {
    const pending = this.#pendingTemplate;
    if (!pending) return;
    await this.#engine.setTemplate(1, pending.frame, templateCropFor(pending.box, this.#model));
    this.#templateVersion++;
    this.#templateFrame = pending.frameIndex;
    this.#pendingTemplate = null;
    this.#log('debug', () => `dynamic template from frame ${pending.frameIndex}`);
  }

  #canReuse(record: FeatureRecord | undefined): boolean {
    if (!record) return false;
    const tolerance = this.#options.featureReuseTolerance;
    if (tolerance === 0) {
      const c = record.crop;
      const same = c.x0 === this.#crop.x0 && c.y0 === this.#crop.y0 && c.side === this.#crop.side && c.outputSize === this.#crop.outputSize;
      return same && record.templateVersion === this.#templateVersion;
    }
    return cropWithinTolerance(record.crop, this.#crop, tolerance);
  }

  async #encodeMissing(frames: readonly number[]): Promise<void> {
    const missing = frames.filter((f) => !this.#canReuse(this.#features.get(f)));
    if (missing.length === 0) return;
    // Forget the old records first: if encode fails part-way, the slots hold unknown features.
    for (const f of missing) this.#features.delete(f);
    const crop = { ...this.#crop };
    await this.#engine.encode(
      missing.map((f) => this.#frames.get(f) as Frame),
      missing.map(() => crop),
      missing.map((f) => featureSlot(f, this.#model.clipLength)),
    );
    for (const f of missing) this.#features.set(f, { crop, templateVersion: this.#templateVersion });
    this.#log('debug', () => `encoded frames ${missing.join(', ')} (${frames.length - missing.length} reused)`);
  }

  /** Store a decoded full (or flushed) window: refinement, next reference, template choice. */
  #commitWindow({ plan, candidates }: DecodedWindow): TrackedFrame[] {
    const { updates, replaced } = refineWindow(plan.frames, plan.roles, (f) => this.#trajectory[f], candidates);
    for (const [f, estimate] of updates) this.#trajectory[f] = estimate;
    const end = plan.frames[plan.frames.length - 1] as number;
    const revisedFrames = new Set(replaced);
    for (const f of plan.frames) {
      if (f !== end && this.#provisional.has(f)) revisedFrames.add(f);
      this.#provisional.delete(f);
    }
    const revised = [...revisedFrames]
      .sort((a, b) => a - b)
      .map((f) => {
        const e = this.#trajectory[f] as StoredEstimate;
        return { frameIndex: f, box: copyBox(e.box), score: e.score };
      });

    const windowEstimates = plan.frames.map((f) => ({ frameIndex: f, ...(this.#trajectory[f] as StoredEstimate) }));
    const templateFrame = chooseTemplateFrame(
      windowEstimates,
      { threshold: this.#options.templateUpdateThreshold, interval: this.#options.templateUpdateInterval },
      this.#templateFrame,
    );
    if (templateFrame !== null) {
      const e = this.#trajectory[templateFrame] as StoredEstimate;
      this.#pendingTemplate = { frameIndex: templateFrame, frame: this.#frames.get(templateFrame) as Frame, box: e.box };
    }
    this.#reference = meanBox(windowEstimates.map((e) => e.box));
    this.#crop = searchCropFor(this.#reference, this.#model);
    this.#lastEstimated = end;
    this.#dropFramesBefore(nextWindowStart(end, this.#options.stride, this.#model.clipLength));
    if (replaced.length > 0) this.#log('debug', () => `refined frames ${replaced.join(', ')}`);
    return revised;
  }

  #dropFramesBefore(start: number): void {
    for (const f of this.#frames.keys()) if (f < start) this.#frames.delete(f);
    for (const f of this.#features.keys()) if (f < start) this.#features.delete(f);
  }

  /** Window latency: resolve the waiting `track()` calls of a decoded window's new frames. */
  #resolveDeferred(plan: WindowPlan, trigger: number, revised: TrackedFrame[]): void {
    plan.frames.forEach((f, i) => {
      const waiting = this.#deferred.get(f);
      if (plan.roles[i] !== 'new' || !waiting) return;
      this.#deferred.delete(f);
      const e = this.#trajectory[f] as StoredEstimate;
      waiting.resolve({ frameIndex: f, box: copyBox(e.box), score: e.score, provisional: false, revised: f === trigger ? revised : [] });
    });
  }
}
