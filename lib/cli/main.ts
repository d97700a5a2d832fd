/**
 * The `sct-diff` command: `main(argv, io, deps)` runs one subcommand and returns the exit
 * status, so tests call it directly and bin/sct-diff.js only sets `process.exitCode`.
 *
 * Exit status: 0 success; 1 runtime failure (unreadable input or model, engine or I/O
 * error); 2 usage error (unknown subcommand or option, malformed value, a box off the frame);
 * 130 interrupted (Ctrl-C or SIGTERM; partial output is removed first).
 */
import { SctDiffError } from '../errors.js';
import { benchCommand, BENCH_HELP } from './commands/bench.js';
import { evalCommand, EVAL_HELP } from './commands/eval.js';
import { inspectCommand, INSPECT_HELP } from './commands/inspect.js';
import { trackCommand, TRACK_HELP } from './commands/track.js';
import type { CliIo, CommandContext } from './context.js';
import { defaultDependencies, type CliDependencies } from './dependencies.js';
import { InterruptedError } from './interrupted.js';
import { UsageError } from './usage-error.js';

/** Exit status of a successful run. */
export const EXIT_OK = 0;
/** Exit status of a runtime failure. */
export const EXIT_FAILURE = 1;
/** Exit status of a usage error. */
export const EXIT_USAGE = 2;
/** Exit status after Ctrl-C or SIGTERM (128 + SIGINT, as shells report it). */
export const EXIT_INTERRUPTED = 130;

/** Top-level help text. */
export const MAIN_HELP = `Usage: sct-diff <command> [options]

Single-object video tracking with SCT-Diff.

Commands:
  track     Follow an object through a video or frames folder; write boxes and an annotated video.
  eval      Run the tracker over a benchmark (GOT-10k, LaSOT, TrackingNet, OTB) and score it.
  bench     Measure the engine's speed on this host.
  inspect   Show available backends, the GPU, and a model file summary.

Run "sct-diff <command> --help" for a command's options.
Exit status: 0 success, 1 runtime failure, 2 usage error, 130 interrupted.
`;

const COMMANDS: Record<string, { run: (ctx: CommandContext) => Promise<number>; help: string }> = {
  track: { run: trackCommand, help: TRACK_HELP },
  eval: { run: evalCommand, help: EVAL_HELP },
  bench: { run: benchCommand, help: BENCH_HELP },
  inspect: { run: inspectCommand, help: INSPECT_HELP },
};

/**
 * Run the command line `argv` (without "node" and the script path).
 * @param io - Output streams. Default: process.stdout and process.stderr.
 * @param deps - Replacements for package parts (tests). Default: the real ones.
 * @returns The exit status: 0, 1 or 2.
 */
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }, deps: Partial<CliDependencies> = {}): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    if (name === 'help' && rest[0] !== undefined && COMMANDS[rest[0]]) {
      io.stdout.write(COMMANDS[rest[0]]!.help);
      return EXIT_OK;
    }
    (name === undefined ? io.stderr : io.stdout).write(MAIN_HELP);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    const { createRequire } = await import('node:module');
    const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
    io.stdout.write(`${version}\n`);
    return EXIT_OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`sct-diff: unknown command "${name}"\n\n${MAIN_HELP}`);
    return EXIT_USAGE;
  }
  try {
    return await command.run({ argv: rest, io, deps: { ...defaultDependencies(), ...deps }, signal: io.signal });
  } catch (error) {
    // A terminal's Ctrl-C also reaches the ffmpeg children, whose failure then surfaces first.
    if (error instanceof InterruptedError || io.signal?.aborted) {
      io.stderr.write(`\nsct-diff ${name}: ${new InterruptedError().message}\n`);
      return EXIT_INTERRUPTED;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`sct-diff ${name}: ${error.message}\nRun "sct-diff ${name} --help" for usage.\n`);
      return EXIT_USAGE;
    }
    if (error instanceof SctDiffError) {
      io.stderr.write(`sct-diff ${name}: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr.write(`sct-diff ${name}: unexpected error: ${detail}\n`);
    return EXIT_FAILURE;
  }
}
