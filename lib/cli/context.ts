/** What every subcommand receives: its arguments, the output streams and the dependencies. */
import type { CliDependencies } from './dependencies.js';
import type { OutputStream } from './progress.js';

/** Output streams of the command. */
export interface CliIo {
  /** Results (tables, JSON summaries). */
  stdout: OutputStream;
  /** Progress, warnings and error messages. */
  stderr: OutputStream;
  /** Abort signal of the run (bin/sct-diff.js wires SIGINT and SIGTERM to it). Default: none. */
  signal?: AbortSignal;
}

/** Context of one subcommand run. */
export interface CommandContext {
  /** Arguments after the subcommand name. */
  argv: string[];
  /** Streams. */
  io: CliIo;
  /** Package parts (replaceable in tests). */
  deps: CliDependencies;
  /** Aborted on Ctrl-C / SIGTERM: long loops stop, clean up their partial output, and exit 130. */
  signal: AbortSignal | undefined;
}
