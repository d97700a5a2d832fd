// `npm run prebuild`: compile the addon (and the CUDA backend library when nvcc and CMake are
// here) and put them in prebuilds/<platform>-<arch>/, where node-gyp-build finds them, so
// `npm install` of the packed package needs no compiler and downloads nothing.
//
//   node scripts/prebuild.mjs [--reuse] [--cuda auto|on|off] [--cuda-architectures LIST]
//
// --reuse      copy build/Release/sct_diff.node instead of recompiling when it is newer than
//              every native source and binding.gyp (a CI `npm ci` has just built it).
// --cuda auto  (default) build native/cuda with CMake when nvcc and cmake are found, say why
//              not otherwise; `on` fails without them; `off` skips it (CPU-only package).
// --cuda-architectures  CMake CUDA_ARCHITECTURES list, e.g. "90-real" for a quick check build;
//              default: native/cuda's release set (sm_75 … sm_90 plus compute_90 PTX).
//
// File names follow prebuildify's convention, which node-gyp-build parses: `sct-diff.napi.glibc.node`
// (N-API, so one binary serves every Node version; glibc, so musl hosts such as Alpine skip it
// and compile from source). The CUDA library sits next to it as `libsctdiff_cuda.so`
// (DESIGN.md: a separate shared library next to the .node, opened at run time).
// The addon is compiled with `node-gyp configure build` — incremental, and unlike `rebuild` it
// does not delete build/ (where build/cuda lives) — pointed at the headers installed with Node
// (<prefix>/include/node) so nothing is downloaded, as native/binding/install.mjs does.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    reuse: { type: 'boolean', default: false },
    cuda: { type: 'string', default: 'auto' },
    'cuda-architectures': { type: 'string' },
  },
});
if (!['auto', 'on', 'off'].includes(args.cuda)) {
  throw new RangeError(`Expected --cuda auto, on or off but received ${args.cuda}`);
}

const ADDON_NAME = 'sct-diff.napi.glibc.node';
const CUDA_LIBRARY = 'libsctdiff_cuda.so';
const built = path.join(root, 'build', 'Release', 'sct_diff.node');
const target = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);

function log(line) {
  console.log(`prebuild: ${line}`);
}

function run(command, commandArgs, options = {}) {
  log(`$ ${[command, ...commandArgs].join(' ')}`);
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${path.basename(command)} exited with ${result.status ?? result.signal}`);
  }
}

/** Newest modification time among the files the addon is compiled from. */
function newestAddonSource() {
  let newest = statSync(path.join(root, 'binding.gyp')).mtimeMs;
  for (const folder of ['native/engine', 'native/cpu', 'native/binding']) {
    for (const name of readdirSync(path.join(root, folder))) {
      newest = Math.max(newest, statSync(path.join(root, folder, name)).mtimeMs);
    }
  }
  return newest;
}

/** First executable named `name` on PATH or at one of `extra` paths. */
function findTool(name, extra = []) {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const candidate of [...dirs.map((d) => path.join(d, name)), ...extra]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Environment for node-gyp: Node's own headers when they are installed next to the binary. */
function nodeGypEnv() {
  const env = { ...process.env };
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (!env.npm_config_nodedir && existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
    env.npm_config_nodedir = prefix;
  }
  return env;
}

/** node-gyp's CLI script: npm's (exported to scripts as npm_config_node_gyp) or the one bundled with npm. */
function nodeGypScript() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}

if (process.platform === 'linux' && process.arch === 'x64' && process.env.LIBC === 'musl') {
  throw new Error('Expected a glibc host for the linux-x64 prebuild but LIBC=musl is set');
}

// 1. The addon.
if (args.reuse && existsSync(built) && statSync(built).mtimeMs > newestAddonSource()) {
  log(`reusing ${path.relative(root, built)} (newer than every native source)`);
} else {
  run(process.execPath, [nodeGypScript(), 'configure', 'build'], { env: nodeGypEnv() });
}
// Load it in a child process: a binary that does not load must not become a prebuild.
run(process.execPath, ['-e', `require(${JSON.stringify(built)})`]);

mkdirSync(target, { recursive: true });
for (const name of readdirSync(target)) {
  if (name.endsWith('.node') || name.endsWith('.so')) rmSync(path.join(target, name));
}
copyFileSync(built, path.join(target, ADDON_NAME));
log(`wrote ${path.relative(root, path.join(target, ADDON_NAME))} (${statSync(built).size} bytes)`);

// 2. The CUDA backend library.
if (args.cuda === 'off') {
  log('CUDA backend skipped (--cuda off): the package runs on the CPU only');
} else {
  const nvcc = findTool('nvcc', ['/usr/local/cuda/bin/nvcc']);
  const cmake = findTool('cmake');
  const cudaProject = path.join(root, 'native', 'cuda', 'CMakeLists.txt');
  const missing = [!nvcc && 'nvcc', !cmake && 'cmake', !existsSync(cudaProject) && 'native/cuda/CMakeLists.txt'].filter(Boolean);
  if (missing.length > 0) {
    const message = `CUDA backend not built: ${missing.join(', ')} not found`;
    if (args.cuda === 'on') throw new Error(`${message} (--cuda on)`);
    log(`${message}; the package runs on the CPU only`);
  } else {
    const buildDir = path.join(root, 'build', 'cuda');
    const env = { ...process.env, CUDACXX: nvcc };
    const configure = ['-S', path.dirname(cudaProject), '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release', '-DSCTDIFF_CUDA_TESTS=OFF'];
    if (args['cuda-architectures']) configure.push(`-DSCTDIFF_CUDA_ARCHITECTURES=${args['cuda-architectures']}`);
    run(cmake, configure, { env });
    run(cmake, ['--build', buildDir, '-j', String(Math.max(1, os.availableParallelism()))], { env });
    const library = path.join(buildDir, CUDA_LIBRARY);
    if (!existsSync(library)) throw new Error(`Expected ${path.relative(root, library)} after the CUDA build but it is missing`);
    copyFileSync(library, path.join(target, CUDA_LIBRARY));
    log(`wrote ${path.relative(root, path.join(target, CUDA_LIBRARY))} (${statSync(library).size} bytes)`);
  }
}
