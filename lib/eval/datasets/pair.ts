/**
 * Joining a sequence read from disk with a tracker's result for it, ready for `evaluate`.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { EvaluatedSequence } from '../types.js';
import type { DatasetSequence } from './dataset-sequence.js';
import type { SequenceResult } from './result-writers.js';

/**
 * An {@link EvaluatedSequence} from a dataset sequence (ground truth, visibility, cover, image
 * size) and a tracker result (boxes, times). The result must have one box per ground-truth
 * frame; a withheld test split (one ground-truth box) cannot be evaluated locally.
 */
export function pairResultWithSequence(sequence: DatasetSequence, result: SequenceResult): EvaluatedSequence {
  if (result.boxes.length !== sequence.groundTruth.length) {
    throw new InvalidArgumentError(
      `Expected ${sequence.groundTruth.length} boxes (one per ground-truth frame) for result "${result.name}" of sequence "${sequence.name}" but received ${result.boxes.length}`,
    );
  }
  const paired: EvaluatedSequence = { name: sequence.name, groundTruth: sequence.groundTruth, predictions: result.boxes };
  if (sequence.visible) paired.visible = sequence.visible;
  if (sequence.cover) paired.cover = sequence.cover;
  if (sequence.imageSize) paired.imageSize = sequence.imageSize;
  if (result.times) paired.times = result.times;
  return paired;
}
