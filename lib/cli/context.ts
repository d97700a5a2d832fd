/** What every subcommand receives: its arguments, the output streams and the dependencies. */
import type { CliDependencies } from './dependencies.js';
import type { OutputStream } from './progress.js';

/** Output streams of the command. */
export interface CliIo {
  /** Results (tables, JSON summaries). */
  stdout: OutputStream;
  /** Progress, warnings and error messages. */
  stderr: OutputStream;
}

/** Context of one subcommand run. */
export interface CommandContext {
  /** Arguments after the subcommand name. */
  argv: string[];
  /** Streams. */
  io: CliIo;
  /** Package parts (replaceable in tests). */
  deps: CliDependencies;
}
