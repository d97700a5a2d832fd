/**
 * `sct-diff bench`: the engine's speed test (lib/cli/engine-benchmark.ts). A build without a
 * benchmark says what would be measured and fails, rather than printing made-up numbers.
 */
import { parseChoiceOption, parseCommandLine, parseIntegerOption } from '../args.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../usage-error.js';
import type { DeviceOption } from '../../engine/create.js';
import { readSafetensorsHeader } from '../../io/safetensors-header.js';

/** Help text of `sct-diff bench`. */
export const BENCH_HELP = `Usage: sct-diff bench [--model FILE] [--device auto|cpu|cuda] [--threads N] [--iterations N] [--json]

Measure the engine's speed on this host on synthetic 640x480 frames: template setup, encoder
for one frame and for a clip, decoder per window, and the whole tracker (window latency,
default stride), as median milliseconds (after 2 warm-up calls) and frames per second.

Options:
  --model FILE    Model (.safetensors). Default: the package's bundled model.
  --device NAME   auto | cpu | cuda. Default: auto.
  --threads N     CPU threads, 0 = one per core. Default: 0.
  --iterations N  Timed calls per measurement. Default: 10.
  --json          Print the rows as JSON.
  -h, --help      Show this help.

Exit status: 0 success, 1 when the benchmark cannot run (model, backend), 2 usage error.
`;

const OPTIONS = {
  model: { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
  iterations: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Run `sct-diff bench`; returns the exit status. */
export async function benchCommand({ argv, io, deps }: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine('bench', argv, OPTIONS);
  if (values.help) {
    io.stdout.write(BENCH_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Expected no positional arguments but received "${positionals[0]}"`, 'bench');
  const device: DeviceOption = parseChoiceOption(values.device as string | undefined, 'device', 'bench', ['auto', 'cpu', 'cuda'] as const) ?? 'auto';
  const threads = parseIntegerOption(values.threads as string | undefined, 'threads', 'bench', 0) ?? 0;
  const iterations = parseIntegerOption(values.iterations as string | undefined, 'iterations', 'bench', 1, 10000) ?? 10;
  if (!deps.runBenchmark) {
    io.stderr.write(
      'sct-diff bench: this build has no engine benchmark yet.\n' +
        'It would measure, on the chosen device: template setup, encoder time per frame, decoder time\n' +
        'per window, and a whole tracking step (median ms and frames per second).\n',
    );
    return 1;
  }
  const modelPath = values.model as string | undefined;
  if (modelPath !== undefined) await readSafetensorsHeader(modelPath);
  const rows = await deps.runBenchmark({ model: modelPath, device, threads, iterations });
  if (values.json) {
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (value: unknown): string => (typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(2)) : String(value ?? ''));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((row) => cell(row[c]).length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  io.stdout.write(`${[line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((row) => line(columns.map((c) => cell(row[c]))))].join('\n')}\n`);
  return 0;
}
