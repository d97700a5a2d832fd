// `npm install` / `npm run build:native` entry: use a prebuilt addon when one fits
// (node-gyp-build checks prebuilds/), otherwise compile from source with node-gyp.
// Why not plain `node-gyp-build`: node-gyp downloads Node's headers from nodejs.org unless told
// where they are, which fails on offline machines even though Node installs usually ship the
// headers next to the binary (<prefix>/include/node). We point node-gyp at them when present.
// Usage: node native/binding/install.mjs [--rebuild]   (--rebuild: always compile)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const env = { ...process.env };
const nodePrefix = path.resolve(path.dirname(process.execPath), '..');
if (!env.npm_config_nodedir && existsSync(path.join(nodePrefix, 'include', 'node', 'node_api.h'))) {
  env.npm_config_nodedir = nodePrefix;
}

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  if (result.error) throw result.error;
  process.exitCode = result.status ?? 1;
}

function nodeGypScript() {
  // npm exports its bundled node-gyp to lifecycle scripts; fall back to a local install.
  if (env.npm_config_node_gyp) return env.npm_config_node_gyp;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return path.join(nodePrefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  }
}

if (process.argv.includes('--rebuild')) {
  run(process.execPath, [nodeGypScript(), 'rebuild']);
} else {
  run(process.execPath, [require.resolve('node-gyp-build/bin.js')]);
}
