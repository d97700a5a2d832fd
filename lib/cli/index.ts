/** The `sct-diff` command as a library: `main(argv, io, deps)`. */
export { main, MAIN_HELP, EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED } from './main.js';
export type { CliIo } from './context.js';
export type { CliDependencies, CliTracker, CliTrackerOptions, CliBackendStatus, CliBenchRow } from './dependencies.js';
export { UsageError } from './usage-error.js';
export { InterruptedError } from './interrupted.js';
