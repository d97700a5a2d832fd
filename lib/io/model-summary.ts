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
}

/**
 * Summarize a safetensors model file from its header alone.
 * @throws ModelLoadError as {@link readSafetensorsHeader}.
 */
export async function summarizeModelFile(file: string): Promise<ModelFileSummary> {
  const header = await readSafetensorsHeader(file);
  let config: unknown;
  const configText = header.metadata.config;
  if (configText !== undefined) {
    try {
      config = JSON.parse(configText);
    } catch {
      config = undefined;
    }
  }
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
  };
}
