/**
 * Holding back annotated frames until their boxes are final. SCT-Diff revises a frame's box
 * while the frame is inside a later window, i.e. for up to clipLength − 1 frames after it, so
 * the writer keeps the last `depth` frames and releases a frame only when it has left every
 * window. Memory is bounded by `depth` frames.
 */
import type { Frame } from '../engine/types.js';

/** One frame waiting for its final box. */
export interface DelayedFrame {
  /** Frame index. */
  index: number;
  /** The pixels (owned by the queue until released). */
  frame: Frame;
}

/** A bounded first-in first-out queue of frames. */
export class FrameDelayQueue {
  private readonly frames: DelayedFrame[] = [];

  /** @param depth - Frames held back (≥ 0). */
  constructor(readonly depth: number) {}

  /** Frames currently held. */
  get size(): number {
    return this.frames.length;
  }

  /** Add the newest frame; returns the frames that are now old enough to be final. */
  push(index: number, frame: Frame): DelayedFrame[] {
    this.frames.push({ index, frame });
    return this.frames.length > this.depth ? this.frames.splice(0, this.frames.length - this.depth) : [];
  }

  /** Release everything (end of the video, after the final trajectory is known). */
  drain(): DelayedFrame[] {
    return this.frames.splice(0, this.frames.length);
  }
}
