/**
 * Creates the compute engine a Tracker runs on. Replaced by the native loader when the
 * native engine lands.
 */
import { BackendUnavailableError } from '../errors.js';
import type { Engine } from './types.js';

/** Which compute backend to use: CUDA, CPU, or the first of those that works. */
export type DeviceOption = 'auto' | 'cpu' | 'cuda';

/** Options for {@link createEngine}. */
export interface CreateEngineOptions {
  /** Path of a `.safetensors` model file. */
  model: string;
  /** Backend choice. Default: 'auto'. */
  device?: DeviceOption;
  /** CPU threads; 0 means one per core. Default: 0. */
  threads?: number;
}

/** Load a model into a native engine. */
export async function createEngine(options: CreateEngineOptions): Promise<Engine> {
  throw new BackendUnavailableError(options.device ?? 'auto', 'The native engine is not built into this version of sct-diff yet');
}
