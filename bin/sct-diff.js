#!/usr/bin/env node
// The installed `sct-diff` command: everything lives in dist/cli/main.js (built from lib/cli).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
