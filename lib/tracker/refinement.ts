/**
 * The refinement rule of SCT-Diff inference (paper §3.4): when a window re-estimates frames
 * that an earlier window already estimated, a frame's stored box is replaced only when the
 * new coordinate classification score is higher than the stored one. New frames take the
 * window's estimate as is. Frame 0 (the box given to `init()`) is ground truth and never
 * replaced.
 */
import type { Box } from '../geometry/box.js';
import type { FrameRole } from './window.js';

/** A frame's stored estimate. */
export interface StoredEstimate {
  /** Box in image pixels. */
  box: Box;
  /** Mean top-1 probability of its 4 coordinate tokens (1 for the init box). */
  score: number;
  /** True for the init box, which refinement never replaces. */
  locked: boolean;
}

/** A candidate estimate from one decoder call. */
export interface CandidateEstimate {
  /** Box in image pixels. */
  box: Box;
  /** Mean top-1 probability of its 4 coordinate tokens. */
  score: number;
}

/**
 * Whether a re-estimated frame's stored estimate gives way to a candidate: only a strictly
 * higher score wins (a tie keeps the stored box, so repeated windows cannot make a box flicker
 * between equal-score estimates), and a locked estimate never does.
 */
export function shouldReplace(stored: StoredEstimate, candidate: CandidateEstimate): boolean {
  return !stored.locked && candidate.score > stored.score;
}

/** What one window changes in the trajectory. */
export interface RefinementOutcome {
  /** New stored estimate per frame that changed (new frames always, refined frames when replaced). */
  updates: Map<number, StoredEstimate>;
  /** Re-estimated frames whose stored box was replaced, oldest first. */
  replaced: number[];
}

/**
 * Apply the refinement rule to a whole window.
 * @param frames - The window's frame indices, oldest first.
 * @param roles - Role of each frame.
 * @param stored - Current estimate of each re-estimated frame (looked up by frame index).
 * @param candidates - The window's estimate of each frame, in `frames` order.
 */
export function refineWindow(
  frames: readonly number[],
  roles: readonly FrameRole[],
  stored: (frameIndex: number) => StoredEstimate | undefined,
  candidates: readonly CandidateEstimate[],
): RefinementOutcome {
  const updates = new Map<number, StoredEstimate>();
  const replaced: number[] = [];
  frames.forEach((frameIndex, i) => {
    const candidate = candidates[i];
    if (!candidate) throw new RangeError(`No candidate estimate for window position ${i}`);
    const next: StoredEstimate = { box: candidate.box, score: candidate.score, locked: false };
    if (roles[i] === 'new') {
      updates.set(frameIndex, next);
      return;
    }
    const current = stored(frameIndex);
    if (!current) throw new RangeError(`Re-estimated frame ${frameIndex} has no stored estimate`);
    if (shouldReplace(current, candidate)) {
      updates.set(frameIndex, next);
      replaced.push(frameIndex);
    }
  });
  return { updates, replaced };
}
