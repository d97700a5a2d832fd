/**
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

