/**
 * Python's `round()` for floats: round half to even ("banker's rounding"). OSTrack, ARTrack
 * and SeqTrack's `sample_target` place the crop with Python `round()`, so a crop centred at
 * x.5 must round the same way here or every crop would be one pixel off from the reference.
 */

/**
 * Round to the nearest integer; exact ties (x.5) go to the even neighbour, as Python's
 * `round(v)` does (`round(0.5) = 0`, `round(1.5) = 2`, `round(-2.5) = -2`).
 * Non-finite input is returned unchanged.
 */
export function roundHalfEven(value: number): number {
  if (!Number.isFinite(value)) return value;
  const floor = Math.floor(value);
  // Exact: the fractional part of a double is representable, so no tie is mis-detected.
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
