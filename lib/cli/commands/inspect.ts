/**
 * `sct-diff inspect`: which compute backends can run here and why not, the GPU when there is
 * one, and a summary of a model file read from its safetensors header.
 */
import { parseCommandLine } from '../args.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../usage-error.js';
import { describeTraining, summarizeModelFile, type ModelFileSummary } from '../../io/model-summary.js';
import { defaultModelPath } from '../../tracker/options.js';

/** Help text of `sct-diff inspect`. */
export const INSPECT_HELP = `Usage: sct-diff inspect [--model FILE] [--json]

Show the compute backends this host can run (and why the others cannot), the GPU when the
CUDA backend is available, the GPUs the NVIDIA driver reports (name, compute capability,
driver version, from nvidia-smi), and a summary of the model file (config name, parameter
count, dtypes, file size, how it was trained when the file records it) read from its
safetensors header.

Options:
  --model FILE   Model to summarize. Default: the package's bundled model.
  --json         Print one JSON object instead of text.
  -h, --help     Show this help.

Exit status: 0 when the model file is valid, 1 when it is missing or malformed, 2 usage error.
`;

const OPTIONS = {
  model: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function formatBytes(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(2)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Format a parameter count as "5.52 M (5,521,344)". */
export function formatParameterCount(count: number): string {
  const short = count >= 1e9 ? `${(count / 1e9).toFixed(2)} B` : count >= 1e6 ? `${(count / 1e6).toFixed(2)} M` : count >= 1e3 ? `${(count / 1e3).toFixed(1)} K` : `${count}`;
  return `${short} (${count.toLocaleString('en-US')})`;
}

/** Run `sct-diff inspect`; returns the exit status. */
export async function inspectCommand({ argv, io, deps }: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine('inspect', argv, OPTIONS);
  if (values.help) {
    io.stdout.write(INSPECT_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Expected no positional arguments but received "${positionals[0]}"`, 'inspect');
  const modelPath = (values.model as string | undefined) ?? defaultModelPath();

  const backends = deps.availableBackends ? await deps.availableBackends() : undefined;
  const gpus = await deps.queryGpus();
  let model: ModelFileSummary | undefined;
  let modelError: string | undefined;
  try {
    model = await summarizeModelFile(modelPath);
  } catch (error) {
    modelError = (error as Error).message;
  }

  if (values.json) {
    io.stdout.write(`${JSON.stringify({ backends: backends ?? null, gpus, model: model ?? null, modelError: modelError ?? null }, null, 2)}\n`);
  } else {
    const lines: string[] = ['Backends:'];
    if (backends === undefined) lines.push('  (this build cannot list backends yet: the native engine registry is not available)');
    else for (const b of backends) lines.push(`  ${b.name.padEnd(9)} ${b.available ? 'available  ' : 'unavailable'}  ${b.detail}`);
    const cuda = backends?.find((b) => b.name === 'cuda');
    lines.push('GPU:', cuda?.available ? `  ${cuda.detail}` : '  no CUDA backend');
    for (const gpu of gpus) lines.push(`  driver reports: ${gpu.name}, compute capability ${gpu.computeCapability}, driver ${gpu.driverVersion}`);
    lines.push(`Model: ${modelPath}`);
    if (model) {
      lines.push(
        `  format          ${model.format ?? '(none)'}${model.formatVersion ? ` v${model.formatVersion}` : ''}`,
        `  config          ${model.configName ?? '(no config in metadata)'}`,
        `  parameters      ${formatParameterCount(model.parameterCount)} in ${model.tensorCount} tensors`,
        `  dtypes          ${Object.entries(model.parametersByDtype).map(([dtype, n]) => `${dtype} ${n.toLocaleString('en-US')}`).join(', ') || '(none)'}`,
        `  file size       ${formatBytes(model.fileSize)} (${model.fileSize.toLocaleString('en-US')} bytes)`,
      );
      const training = describeTraining(model.training);
      lines.push(`  training        ${training.length > 0 ? training.join('; ') : '(not recorded)'}`);
    } else {
      lines.push(`  ${modelError}`);
    }
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  if (modelError !== undefined) {
    io.stderr.write(`sct-diff inspect: ${modelError}\n`);
    return 1;
  }
  return 0;
}
