/**
 * Several noise draws per window. The decoder denoises random trajectories in one DDIM step,
 * so one window's boxes depend on its noise draw; decoding the same window with K independent
 * draws and keeping, per frame, the draw the decoder is most confident about applies the
 * refinement rule's criterion (the coordinate classification score, paper §3.4) across draws
 * as well as across windows.
 */
import type { DecodeResult } from '../engine/types.js';
import { splitmix64 } from './window.js';
import { isCoordinateToken, type TokenizerConfig } from '../model/tokenizer.js';
import { frameScore } from './reference.js';

/**
 * Seed of draw `k` of a window whose first draw has seed `windowSeed`. Draw 0 keeps the
 * window's seed, so one draw decodes exactly as the tracker always has.
 */
export function drawSeed(windowSeed: bigint, k: number): bigint {
  return k === 0 ? windowSeed : splitmix64(windowSeed ^ splitmix64(BigInt(k) | (1n << 63n)));
}

/**
 * Combine the draws of one window (each 4 × frames tokens and scores): per frame, the four
 * tokens and scores of the draw with the highest mean score (ties: the earlier draw). A frame
 * keeps its four tokens from one draw, since a box assembled from corners of different draws
 * is no draw's estimate (picking per coordinate measured 2.0 AO worse, docs/tracking.md). A
 * frame whose draw put a [Begin]/[End] token in a coordinate slot ranks below every usable
 * draw, since the tracker would discard that estimate.
 */
export function combineDraws(draws: readonly DecodeResult[], tokenizer: TokenizerConfig): DecodeResult {
  const first = draws[0];
  if (!first) throw new RangeError('combineDraws needs at least one draw');
  if (draws.length === 1) return first;
  const n = first.tokens.length;
  const tokens = new Int32Array(n);
  const scores = new Float32Array(n);
  for (let i = 0; i < n / 4; i++) {
    let best = first;
    let bestScore = rank(first, i, tokenizer);
    for (const d of draws) {
      const s = rank(d, i, tokenizer);
      if (s > bestScore) {
        best = d;
        bestScore = s;
      }
    }
    tokens.set(best.tokens.subarray(4 * i, 4 * i + 4), 4 * i);
    scores.set(best.scores.subarray(4 * i, 4 * i + 4), 4 * i);
  }
  return { tokens, scores };
}

/** A frame's mean score in one draw, or −1 when a coordinate slot holds a non-coordinate token. */
function rank(draw: DecodeResult, i: number, tokenizer: TokenizerConfig): number {
  for (let j = 0; j < 4; j++) if (!isCoordinateToken(draw.tokens[4 * i + j] ?? -1, tokenizer)) return -1;
  return frameScore(draw.scores, i);
}
