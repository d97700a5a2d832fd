/**
 * The sliding-window schedule of SCT-Diff inference, as pure functions of frame indices.
 *
 * Frame 0 is the frame given to `init()`; its box is known. Later frames are estimated in
 * windows of up to N = clipLength frames that slide by `stride` S (1 ≤ S ≤ N):
 * - a window is decoded when S frames are pending (received but not yet estimated);
 * - the window ends at the newest frame and starts N − 1 frames earlier, but never before
 *   frame 0, so the first window of a video is shorter (N = 6, S = 3: [0..3], [1..6], [4..9], …);
 * - the pending frames of a window are its "new" frames (first estimate, timestep tNew); the
 *   others were estimated by an earlier window (or are frame 0) and are "re-estimated" frames
 *   (their previous tokens are re-noised to tRefine, the refinement rule decides whether the
 *   new estimate replaces the stored one).
 *
 * A window's start is fixed as soon as the previous window is decoded, so a partial window
 * (flushed by `finish()`, or decoded early for a provisional box) covers the same first frames
 * as the full window would, just fewer new frames.
 */
import { InvalidArgumentError } from '../errors.js';
import { describeReceived } from '../geometry/describe.js';

/** Role of a frame inside a window. */
export type FrameRole = 'new' | 'refine';

/** Which frames one decoder call covers. */
export interface WindowPlan {
  /** Frame indices of the window, oldest first (consecutive). */
  frames: number[];
  /** Role of each entry of `frames`: re-estimated frames first, then the new ones. */
  roles: FrameRole[];
  /** Number of new frames (the last `newCount` entries of `frames`). */
  newCount: number;
  /** Whether the window has all S new frames (false: a flushed or provisional window). */
  complete: boolean;
}

function requireInteger(value: number, name: string, min: 0 | 1): void {
  if (!Number.isInteger(value) || value < min) {
    const bound = min === 0 ? 'non-negative' : 'positive';
    throw new InvalidArgumentError(`Expected a ${bound} integer ${name} but received ${describeReceived(value)}`);
  }
}

/**
 * Check a stride against the clip length: 1 ≤ stride ≤ clipLength.
 * @throws InvalidArgumentError, e.g. "Expected a stride between 1 and 6 (the model's clip length) but received 7".
 */
export function validateStride(stride: number, clipLength: number): void {
  requireInteger(clipLength, 'clip length', 1);
  if (!Number.isInteger(stride) || stride < 1 || stride > clipLength) {
    throw new InvalidArgumentError(
      `Expected a stride between 1 and ${clipLength} (the model's clip length) but received ${describeReceived(stride)}`,
    );
  }
}

/**
 * First frame of the window that follows the last decoded window:
 * max(0, lastEstimated + stride − clipLength + 1). Frames before it are never decoded again,
 * so the tracker may drop their pixels and features.
 * @param lastEstimated - Newest frame that has an estimate (0 right after `init()`).
 */
export function nextWindowStart(lastEstimated: number, stride: number, clipLength: number): number {
  requireInteger(lastEstimated, 'last estimated frame', 0);
  validateStride(stride, clipLength);
  return Math.max(0, lastEstimated + stride - clipLength + 1);
}

/** Whether the frames pending since the last window fill a full window (pending ≥ stride). */
export function isWindowDue(pendingCount: number, stride: number): boolean {
  requireInteger(pendingCount, 'pending frame count', 0);
  return pendingCount >= stride;
}

/**
 * The window that estimates frames lastEstimated + 1 … end.
 * @param lastEstimated - Newest frame that already has an estimate.
 * @param end - Newest frame of the window: lastEstimated < end ≤ lastEstimated + stride.
 * @throws InvalidArgumentError when `end` is outside that range.
 */
export function planWindow(lastEstimated: number, end: number, stride: number, clipLength: number): WindowPlan {
  const start = nextWindowStart(lastEstimated, stride, clipLength);
  if (!Number.isInteger(end) || end <= lastEstimated || end > lastEstimated + stride) {
    throw new InvalidArgumentError(
      `Expected a window end between ${lastEstimated + 1} and ${lastEstimated + stride} but received ${describeReceived(end)}`,
    );
  }
  const frames: number[] = [];
  const roles: FrameRole[] = [];
  for (let f = start; f <= end; f++) {
    frames.push(f);
    roles.push(f <= lastEstimated ? 'refine' : 'new');
  }
  const newCount = end - lastEstimated;
  return { frames, roles, newCount, complete: newCount === stride };
}

/**
 * Engine feature slot of a frame: frameIndex mod (2 × clipLength). A window spans at most N
 * consecutive frames, so its frames never share a slot, and a frame keeps its slot for as
 * long as it stays in windows (re-encoding overwrites the slot in place).
 */
export function featureSlot(frameIndex: number, clipLength: number): number {
  requireInteger(frameIndex, 'frame index', 0);
  requireInteger(clipLength, 'clip length', 1);
  return frameIndex % (2 * clipLength);
}

/** Diffusion timestep per window frame: tNew for new frames, tRefine for re-estimated ones. */
export function windowTimesteps(roles: readonly FrameRole[], tNew: number, tRefine: number): Int32Array {
  return Int32Array.from(roles, (role) => (role === 'new' ? tNew : tRefine));
}

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64 finalizer (the same mixer as the engine's noise, docs/model-contract.md "Noise"). */
export function splitmix64(x: bigint): bigint {
  let z = (x + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/**
 * Noise seed of one decoder call, a function of the tracker's seed, the window's last frame,
 * and whether the call is a provisional one: a full window gets the same noise whatever the
 * latency mode, so 'frame' and 'window' latency give the same final trajectory.
 */
export function decodeSeed(baseSeed: bigint, windowEnd: number, provisional: boolean): bigint {
  requireInteger(windowEnd, 'window end', 0);
  const key = BigInt(windowEnd) * 2n + (provisional ? 1n : 0n);
  return splitmix64((baseSeed & MASK64) ^ splitmix64(key));
}
