/**
 * Input checks shared by every protocol. Messages follow the package's one shape:
 * "Expected <what> for <where> but received <value>".
 */
import { InvalidArgumentError, InvalidBoxError } from '../errors.js';
import { describeReceived } from '../geometry/describe.js';
import type { Box, EvaluatedSequence } from './types.js';

/** What a ground-truth box may contain besides finite numbers. */
export interface GroundTruthRules {
  /** Allow NaN coordinates (LaSOT's toolkit drops such frames). Default: false. */
  allowNaN?: boolean;
}

function sequenceLabel(sequence: EvaluatedSequence, index: number): string {
  return sequence.name !== undefined ? `sequence "${sequence.name}"` : `sequence ${index}`;
}

const BOX_FIELDS = ['x', 'y', 'width', 'height'] as const;

function isAcceptable(v: unknown, sizeField: boolean, allowNaN: boolean): boolean {
  if (typeof v !== 'number') return false;
  if (Number.isFinite(v)) return !sizeField || v >= 0;
  return allowNaN && Number.isNaN(v);
}

/** Checks a box; `where` is only built when the box is bad (it runs for every frame). */
function checkBox(value: unknown, where: () => string, allowNaN: boolean): void {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidBoxError(`Expected a box {x, y, width, height} for ${where()} but received ${describeReceived(value)}`);
  }
  const record = value as Record<string, unknown>;
  for (const field of BOX_FIELDS) {
    const v = record[field];
    const sizeField = field === 'width' || field === 'height';
    if (!isAcceptable(v, sizeField, allowNaN)) {
      const kind = sizeField ? 'a finite non-negative' : 'a finite';
      throw new InvalidBoxError(`Expected ${kind} ${field} for ${where()} but received ${describeReceived(v)}`);
    }
  }
}

function checkArray(value: unknown, field: string, label: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError(`Expected an array for ${field} of ${label} but received ${describeReceived(value)}`);
  }
  return value;
}

function checkLength(values: readonly unknown[] | undefined, field: string, label: string, expected: number): void {
  if (values !== undefined && values.length !== expected) {
    throw new InvalidArgumentError(
      `Expected ${expected} entries (one per ground-truth frame) for ${field} of ${label} but received ${values.length}`,
    );
  }
}

/**
 * Check one sequence: boxes present and finite with non-negative sizes, predictions and every
 * per-frame array as long as the ground truth, at least one frame, a positive image size.
 * Throws {@link InvalidArgumentError} or {@link InvalidBoxError}.
 */
export function validateSequence(sequence: EvaluatedSequence, index: number, rules: GroundTruthRules = {}): void {
  if (typeof sequence !== 'object' || sequence === null) {
    throw new InvalidArgumentError(`Expected a sequence object for sequences[${index}] but received ${describeReceived(sequence)}`);
  }
  const label = sequenceLabel(sequence, index);
  const groundTruth = checkArray(sequence.groundTruth, 'groundTruth', label);
  const predictions = checkArray(sequence.predictions, 'predictions', label);
  if (groundTruth.length === 0) {
    throw new InvalidArgumentError(`Expected at least one frame for groundTruth of ${label} but received 0`);
  }
  if (predictions.length !== groundTruth.length) {
    throw new InvalidArgumentError(
      `Expected ${groundTruth.length} predictions (one per ground-truth frame) for ${label} but received ${predictions.length}`,
    );
  }
  const allowNaN = rules.allowNaN === true;
  for (let i = 0; i < groundTruth.length; i++) checkBox(groundTruth[i], () => `groundTruth[${i}] of ${label}`, allowNaN);
  for (let i = 0; i < predictions.length; i++) checkBox(predictions[i], () => `predictions[${i}] of ${label}`, false);
  checkLength(sequence.visible, 'visible', label, groundTruth.length);
  checkLength(sequence.cover, 'cover', label, groundTruth.length);
  checkLength(sequence.times, 'times', label, groundTruth.length);
  sequence.cover?.forEach((c, i) => {
    if (typeof c !== 'number' || !Number.isFinite(c)) {
      throw new InvalidArgumentError(`Expected a finite number for cover[${i}] of ${label} but received ${describeReceived(c)}`);
    }
  });
  sequence.times?.forEach((t, i) => {
    // NaN is a legal "not measured" marker in GOT-10k time files; only other non-numbers are rejected.
    if (typeof t !== 'number') {
      throw new InvalidArgumentError(`Expected a number for times[${i}] of ${label} but received ${describeReceived(t)}`);
    }
  });
  const size = sequence.imageSize;
  if (size !== undefined) {
    for (const field of ['width', 'height'] as const) {
      const v = size[field];
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
        throw new InvalidArgumentError(
          `Expected a finite positive ${field} for imageSize of ${label} but received ${describeReceived(v)}`,
        );
      }
    }
  }
}

/** Check a non-empty array of sequences with {@link validateSequence}. */
export function validateSequences(sequences: readonly EvaluatedSequence[], rules: GroundTruthRules = {}): void {
  if (!Array.isArray(sequences)) {
    throw new InvalidArgumentError(`Expected an array of sequences but received ${describeReceived(sequences)}`);
  }
  if (sequences.length === 0) {
    throw new InvalidArgumentError('Expected at least one sequence but received 0');
  }
  sequences.forEach((s, i) => validateSequence(s, i, rules));
}

/** Display name of a sequence: its `name`, or `"sequence <index>"`. */
export function sequenceName(sequence: EvaluatedSequence, index: number): string {
  return sequence.name ?? `sequence ${index}`;
}

/** A copy of a box as a plain object (so callers' objects are never aliased or changed). */
export function copyBox(box: Box): Box {
  return { x: box.x, y: box.y, width: box.width, height: box.height };
}
