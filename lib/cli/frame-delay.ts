/**
 * Holding back annotated frames until their boxes are final. SCT-Diff revises a frame's box
 * while the frame is inside a later window, so the `track` command keeps recent frames here
 * and releases them once no window can change them any more. The caller decides which frames
 * are final; memory is bounded by how far tracking lags behind decoding (a few windows).
 */
import type { Frame } from '../engine/types.js';

/** One frame waiting for its final box. */
export interface DelayedFrame {
  /** Frame index. */
  index: number;
  /** The pixels (owned by the queue until released). */
  frame: Frame;
}

/** A first-in first-out queue of frames, released by index. */
export class FrameDelayQueue {
  private readonly frames: DelayedFrame[] = [];

  /** Frames currently held. */
  get size(): number {
    return this.frames.length;
  }

  /** Add the newest frame (indices must increase). */
  push(index: number, frame: Frame): void {
    this.frames.push({ index, frame });
  }

  /** Remove and return, oldest first, the frames with index ≤ `lastFinal`. */
  releaseThrough(lastFinal: number): DelayedFrame[] {
    let count = 0;
    while (count < this.frames.length && (this.frames[count] as DelayedFrame).index <= lastFinal) count++;
    return this.frames.splice(0, count);
  }

  /** Release everything (end of the video, after the final trajectory is known). */
  drain(): DelayedFrame[] {
    return this.frames.splice(0, this.frames.length);
  }
}
