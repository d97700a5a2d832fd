#!/usr/bin/env node
// The installed `sct-diff` command: everything lives in dist/cli/main.js (built from lib/cli).
import { main } from '../dist/cli/main.js';

// Ctrl-C / SIGTERM: let the running command stop at the next frame and remove its partial
// output (exit 130); a second signal exits at once.
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  });
}

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: interrupt.signal });
