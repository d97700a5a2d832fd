/**
 * Errors that end a run with a special exit status.
 *
 * A wrong command line: unknown subcommand or option, missing or malformed value. The
 * command prints the message and a pointer to `--help`, and exits with status 2.
 */
import { InvalidArgumentError } from '../errors.js';

/** A wrong command line (exit status 2). */
export class UsageError extends InvalidArgumentError {
  /** The subcommand whose usage was wrong, for the `--help` hint; undefined for the top level. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/** The run was interrupted (Ctrl-C, SIGTERM); exit status 130 like a shell's. */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted; partial output was removed');
    this.name = 'InterruptedError';
  }
}

/** Throw {@link InterruptedError} when `signal` has been aborted. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}
