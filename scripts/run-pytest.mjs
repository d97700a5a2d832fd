#!/usr/bin/env node
// Runs the training/ test-suite under Debian's interpreter (/usr/bin/python3), which is the
// one that sees python3-torch. Exit code 5 ("no tests collected") is treated as a failure on
// purpose: a suite that silently runs nothing must not look green.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const python = process.env.SCT_DIFF_PYTHON ?? '/usr/bin/python3';
if (!existsSync(python)) {
  console.error(`run-pytest: ${python} not found; install Debian's python3, python3-torch and python3-pytest (see .ci/run)`);
  process.exit(1);
}
const args = ['-m', 'pytest', '-q', 'training/tests', ...process.argv.slice(2)];
const result = spawnSync(python, args, { stdio: 'inherit', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
process.exit(result.status ?? 1);
