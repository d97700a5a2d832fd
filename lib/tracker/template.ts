/**
 * Dynamic-template policy. SCT-Diff keeps the initial template plus one dynamic template taken
 * from "the target state with the highest classification score in the previous trajectory".
 * The paper's update condition is unspecified, so it is gated as SeqTrack gates its updates:
 * a score threshold and a minimum interval in frames.
 */

/** Default {@link TemplatePolicy.threshold}: 0.3 (see docs/tracking.md, "Dynamic template"). */
export const DEFAULT_TEMPLATE_UPDATE_THRESHOLD = 0.3;
/** Default {@link TemplatePolicy.interval}: 1 frame (any newer frame may replace the template). */
export const DEFAULT_TEMPLATE_UPDATE_INTERVAL = 1;

/** When the dynamic template may be replaced. */
export interface TemplatePolicy {
  /** Minimum frame score (mean top-1 probability, 0..1) of the new template frame. */
  threshold: number;
  /** Minimum distance in frames between the current template frame and the new one. */
  interval: number;
}

/** A frame of the last window that could become the dynamic template. */
export interface TemplateCandidate {
  /** Frame index. */
  frameIndex: number;
  /** Its stored score after refinement. */
  score: number;
  /** True for the init frame, which is already the initial template. */
  locked: boolean;
}

/**
 * The frame whose crop becomes the new dynamic template, or null to keep the current one:
 * the best-scoring unlocked candidate (a tie goes to the newer frame, whose appearance is more
 * recent) if its score reaches the threshold and it lies at least `interval` frames after the
 * current template frame.
 * @param currentTemplateFrame - Frame the dynamic template was cut from (0 after init).
 */
export function chooseTemplateFrame(
  candidates: readonly TemplateCandidate[],
  policy: TemplatePolicy,
  currentTemplateFrame: number,
): number | null {
  let best: TemplateCandidate | undefined;
  for (const c of candidates) {
    if (c.locked) continue;
    if (!best || c.score > best.score || (c.score === best.score && c.frameIndex > best.frameIndex)) best = c;
  }
  if (!best || best.score < policy.threshold) return null;
  if (best.frameIndex - currentTemplateFrame < policy.interval) return null;
  return best.frameIndex;
}
