/** Creating the tracker for a subcommand, with option problems reported as usage errors. */
import { InvalidArgumentError } from '../errors.js';
import type { CliIo } from './context.js';
import type { CliDependencies, CliTracker, CliTrackerOptions } from './dependencies.js';
import { UsageError } from './usage-error.js';

/**
 * Create the tracker. Only the model knows its clip length, so a `--stride` above it is found
 * here; it is still the command line's fault and becomes a UsageError (exit 2).
 */
export async function createCliTracker(deps: CliDependencies, options: CliTrackerOptions, command: string): Promise<CliTracker> {
  try {
    return await deps.createTracker(options);
  } catch (error) {
    if (options.stride !== undefined && error instanceof InvalidArgumentError && /\bstride\b/.test(error.message)) {
      throw new UsageError(`${error.message.replace(/\bstride\b/, '--stride')}`, command);
    }
    throw error;
  }
}

/**
 * The tracker log of a subcommand: warnings and notices (such as device 'auto' falling back to
 * the CPU) on stderr, debug lines (window decodes, template updates) only with `--verbose`.
 */
export function trackerLog(io: CliIo, command: string, verbose: boolean): NonNullable<CliTrackerOptions['log']> {
  return (level, message) => {
    if (level !== 'debug' || verbose) io.stderr.write(`${io.stderr.isTTY ? '\r\x1b[K' : ''}sct-diff ${command}: ${message.replace(/^sct-diff: /, '')}\n`);
  };
}
