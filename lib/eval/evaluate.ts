/**
 * One entry point for every protocol: `evaluate(sequences, { protocol })` returns the typed
 * metrics object of that protocol.
 */
import { InvalidArgumentError } from '../errors.js';
import { describeReceived } from '../geometry/describe.js';
import { evaluateGot10k, type Got10kResult } from './got10k.js';
import { evaluateLasot, type LasotResult } from './lasot.js';
import { evaluateOtb, type OtbResult } from './otb.js';
import { evaluatePytracking, type PytrackingOptions, type PytrackingResult } from './pytracking.js';
import type { EvaluatedSequence } from './types.js';

/** The supported evaluation protocols. */
export type EvaluationProtocol = 'got10k' | 'otb' | 'lasot' | 'pytracking';

/** Options of {@link evaluate}. */
export interface EvaluateOptions extends PytrackingOptions {
  /**
   * Which toolkit's definitions to use:
   * - `'got10k'`: GOT-10k (AO, SR0.5, SR0.75; frame 0 excluded, cover > 0, bounded IoU).
   * - `'otb'`: got10k toolkit's OTB (success AUC, precision at 20 px).
   * - `'lasot'`: got10k toolkit's LaSOT (OTB plus normalized precision = curve mean).
   * - `'pytracking'`: pytracking (AUC, OP50, OP75, Precision, Norm. Precision in percent).
   *
   * The pytracking-only options (`dataset`, `validity`, `excludeInvalidFrames`) are ignored
   * by the other protocols.
   */
  protocol: EvaluationProtocol;
}

/** Metrics type returned for each protocol. */
export interface EvaluationResultByProtocol {
  /** GOT-10k result. */
  got10k: Got10kResult;
  /** OTB result. */
  otb: OtbResult;
  /** LaSOT result. */
  lasot: LasotResult;
  /** pytracking result. */
  pytracking: PytrackingResult;
}

/** Any protocol's result; narrow on `result.protocol`. */
export type EvaluationResult = EvaluationResultByProtocol[EvaluationProtocol];

/**
 * Evaluate tracker predictions against ground truth with the chosen protocol. Inputs are
 * validated (equal lengths, finite boxes, non-negative sizes) and never changed.
 *
 * @example
 * const { averageOverlap, successRate50 } = evaluate(sequences, { protocol: 'got10k' });
 */
export function evaluate<P extends EvaluationProtocol>(
  sequences: readonly EvaluatedSequence[],
  options: EvaluateOptions & { protocol: P },
): EvaluationResultByProtocol[P] {
  const protocol: EvaluationProtocol = options?.protocol;
  switch (protocol) {
    case 'got10k':
      return evaluateGot10k(sequences) as EvaluationResultByProtocol[P];
    case 'otb':
      return evaluateOtb(sequences) as EvaluationResultByProtocol[P];
    case 'lasot':
      return evaluateLasot(sequences) as EvaluationResultByProtocol[P];
    case 'pytracking':
      return evaluatePytracking(sequences, options) as EvaluationResultByProtocol[P];
    default:
      throw new InvalidArgumentError(
        `Expected protocol "got10k", "otb", "lasot" or "pytracking" for evaluate options but received ${describeReceived(protocol)}`,
      );
  }
}
