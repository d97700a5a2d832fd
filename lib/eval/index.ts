/**
 * Evaluation toolkit: box metrics and benchmark protocols whose numbers match the got10k
 * toolkit and pytracking, plus readers and writers of the standard dataset layouts.
 */
export type { EvaluatedSequence } from './types.js';
export * from './iou.js';
export * from './center-error.js';
export {
  countCurve,
  numpyLinspace,
  numpyMean,
  numpySum,
  torchMean,
  torchMeanOverRows,
  torchSum,
  type TorchFloatType,
} from './numeric.js';
export * from './got10k.js';
export * from './otb.js';
export * from './lasot.js';
export * from './pytracking.js';
export * from './evaluate.js';
export { validateSequence, validateSequences, type GroundTruthRules } from './validate.js';
export * from './datasets/index.js';
