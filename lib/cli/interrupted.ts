/** Stopping a run on Ctrl-C or SIGTERM. */
/** The run was interrupted (Ctrl-C, SIGTERM); exit status 130 like a shell's. */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted; no incomplete output file was left behind');
    this.name = 'InterruptedError';
  }
}

/** Throw {@link InterruptedError} when `signal` has been aborted. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}
