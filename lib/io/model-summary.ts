/** A one-look summary of a model file, for `sct-diff inspect`. */
import { readSafetensorsHeader } from './safetensors-header.js';

/** What {@link summarizeModelFile} reports. */
export interface ModelFileSummary {
  /** The file. */
  file: string;
  /** Size in bytes. */
  fileSize: number;
  /** Metadata `format` (an sct-diff model says "sct-diff"), or undefined. */
  format: string | undefined;
  /** Metadata `format_version`, or undefined. */
  formatVersion: string | undefined;
  /** `name` from the config JSON in the metadata, or undefined. */
  configName: string | undefined;
  /** The parsed config JSON, or undefined when absent or not JSON. */
  config: unknown;
  /** Number of tensors. */
  tensorCount: number;
  /** Total number of elements over all tensors. */
  parameterCount: number;
  /** Elements per dtype, e.g. { F32: 5_000_000 }. */
  parametersByDtype: Record<string, number>;
  /** The parsed `training` metadata training/export.py writes (how the weights were made), or undefined. */
  training: unknown;
}

/** One line per training stage recorded in a model's `training` metadata, e.g. "stage 1: 1,500 steps, 48,000 samples". */
export function describeTraining(training: unknown): string[] {
  if (typeof training !== 'object' || training === null) return [];
  const record = training as Record<string, unknown>;
  if (typeof record.random_init_seed === 'number') return [`untrained: random weights (seed ${record.random_init_seed})`];
  if (!Array.isArray(record.stages)) return [];
  return record.stages.map((stage: unknown) => {
    const s = (typeof stage === 'object' && stage !== null ? stage : {}) as Record<string, unknown>;
    const run = (typeof s.run === 'object' && s.run !== null ? s.run : {}) as Record<string, unknown>;
    const count = (v: unknown) => (typeof v === 'number' ? v.toLocaleString('en-US') : '?');
    return `stage ${typeof run.stage === 'number' ? run.stage : '?'}: ${count(s.checkpoint_step)} steps, ${count(s.samples_seen)} samples`;
  });
}

/**
 * Summarize a safetensors model file from its header alone.
 * @throws ModelLoadError as {@link readSafetensorsHeader}.
 */
export async function summarizeModelFile(file: string): Promise<ModelFileSummary> {
  const header = await readSafetensorsHeader(file);
  const config = parseJson(header.metadata.config);
  const name = typeof config === 'object' && config !== null ? (config as Record<string, unknown>).name : undefined;
  const parametersByDtype: Record<string, number> = {};
  let parameterCount = 0;
  for (const tensor of header.tensors) {
    const elements = tensor.shape.reduce((a, b) => a * b, 1);
    parameterCount += elements;
    parametersByDtype[tensor.dtype] = (parametersByDtype[tensor.dtype] ?? 0) + elements;
  }
  return {
    file,
    fileSize: header.fileSize,
    format: header.metadata.format,
    formatVersion: header.metadata.format_version,
    configName: typeof name === 'string' ? name : undefined,
    config,
    tensorCount: header.tensors.length,
    parameterCount,
    parametersByDtype,
    training: parseJson(header.metadata.training),
  };
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
