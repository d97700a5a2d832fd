/**
 * Pack-and-install: the package as a user gets it. Puts the addon in prebuilds/
 * (scripts/prebuild.mjs, CPU only), packs the tarball, installs it offline into an empty
 * project whose PATH holds nothing but `node` and `sh` — no g++, make or python3, so the
 * install can only succeed by loading the prebuilt binary, never by compiling — then runs the
 * quick start there (track the shipped sample clip on the CPU with a random-weight tiny model)
 * and the `sct-diff` command (`track` on the sample, `--help`). Slow (one to a few minutes; it
 * may compile the addon, and `npm pack` rebuilds dist/, which would race other test files that
 * read dist/), so vitest.config.ts excludes it and `npm run test:pack` (vitest.pack.config.ts)
 * runs it alone, as the last step of `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
const npmCliPath = process.env.npm_execpath?.endsWith('npm-cli.js') ? process.env.npm_execpath : npmCli;
const npxCliPath = path.join(path.dirname(npmCliPath), 'npx-cli.js');
const SAMPLE_INIT_BOX = { x: 42.5, y: 92, width: 64, height: 56 };
const QUICK_START_FRAMES = 12;

/** The environment minus npm's lifecycle variables, so the inner npm behaves as a user's would. */
function cleanEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== 'INIT_CWD' && key !== 'NODE_OPTIONS') env[key] = value;
  }
  return { ...env, ...overrides };
}

/** Run a command; on failure throw with its output (execFileSync's own error hides stderr). */
function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): string {
  try {
    return execFileSync(command, args, { ...options, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (error) {
    const failed = error as { status?: number; stdout?: string; stderr?: string };
    throw new Error(
      `${path.basename(command)} ${args.join(' ')} exited with ${failed.status}\n--- stdout\n${failed.stdout}\n--- stderr\n${failed.stderr}`,
    );
  }
}

interface LockEntry {
  version: string;
  resolved?: string;
  integrity: string;
  [key: string]: unknown;
}

/**
 * A lockfile for `{ dependencies: { 'sct-diff': 'file:<tgz>' } }`: the tarball itself plus
 * the repository's locked entries of its dependencies with their registry URLs, so `npm ci
 * --offline` takes everything from npm's content-addressed cache (a CI `npm ci` filled it)
 * without needing registry metadata.
 */
function lockfileFor(tarball: string, packageJson: { version: string; dependencies?: Record<string, string> }) {
  const repoLock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const registry = 'https://registry.npmjs.org';
  const tarballName = path.basename(tarball);
  const packages: Record<string, unknown> = {
    '': { name: 'pack-check', version: '1.0.0', dependencies: { 'sct-diff': `file:${tarballName}` } },
    'node_modules/sct-diff': {
      version: packageJson.version,
      resolved: `file:${tarballName}`,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      hasInstallScript: true,
      dependencies: packageJson.dependencies,
      bin: { 'sct-diff': 'bin/sct-diff.js' },
    },
  };
  for (const name of Object.keys(packageJson.dependencies ?? {})) {
    const entry = repoLock.packages[`node_modules/${name}`];
    if (!entry) throw new Error(`Expected ${name} in package-lock.json`);
    packages[`node_modules/${name}`] = { resolved: `${registry}/${name}/-/${name}-${entry.version}.tgz`, ...entry };
  }
  return { name: 'pack-check', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

// The quick start as a user would write it (README), plus a report of what it saw.
const QUICK_START = `
import { createRequire } from 'node:module';
import { Tracker, openVideo } from 'sct-diff';

const [model, videoPath, frameLimit] = process.argv.slice(2);
const video = await openVideo(videoPath);
// Plain JavaScript on Node 20 has no \`await using\`: dispose the tracker in a finally block.
const tracker = await Tracker.create({ model, device: 'cpu' });
const results = [];
try {
  for await (const frame of video) {
    if (results.length === 0) {
      await tracker.init(frame, ${JSON.stringify(SAMPLE_INIT_BOX)});
      results.push({ frameIndex: 0 });
    } else {
      const { frameIndex, box, score } = await tracker.track(frame);
      results.push({ frameIndex, box, score });
    }
    if (results.length === Number(frameLimit)) break;
  }
} finally {
  await tracker.dispose();
}
const require = createRequire(import.meta.url);
const addon = require('node-gyp-build').resolve(new URL('./node_modules/sct-diff/', import.meta.url).pathname);
console.log(JSON.stringify({ backend: tracker.backend, addon, width: video.info.width, height: video.info.height, results }));
`;

describe('the packed package installs without a compiler and runs the quick start', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sct-diff-pack-'));
  const project = path.join(work, 'project');
  const installed = path.join(project, 'node_modules', 'sct-diff');
  const model = path.join(work, 'sctdiff-tiny-random.safetensors');
  let packedFiles: string[] = [];

  beforeAll(() => {
    run(process.execPath, ['scripts/prebuild.mjs', '--reuse', '--cuda', 'off'], { cwd: root });
    mkdirSync(project);
    const [packed] = JSON.parse(
      run(process.execPath, [npmCliPath, 'pack', '--json', '--pack-destination', project], { cwd: root, env: cleanEnv({}) }),
    ) as { filename: string; files: { path: string }[] }[];
    if (!packed) throw new Error('npm pack reported no tarball');
    packedFiles = packed.files.map((f) => f.path);
    const tarball = path.join(project, packed.filename);
    const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };

    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'pack-check', version: '1.0.0', private: true, type: 'module', dependencies: { 'sct-diff': `file:${packed.filename}` } }));
    writeFileSync(path.join(project, 'package-lock.json'), JSON.stringify(lockfileFor(tarball, packageJson)));

    // PATH = a folder holding only `node` and `sh` (npm runs install scripts through sh):
    // compilers, make and python3 cannot be found, so the install cannot compile anything.
    const bin = path.join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, path.join(bin, 'node'));
    symlinkSync('/bin/sh', path.join(bin, 'sh'));
    run(process.execPath, [npmCliPath, 'ci', '--offline', '--no-audit', '--no-fund', '--foreground-scripts'], {
      cwd: project,
      env: cleanEnv({ PATH: bin }),
    });

    run('/usr/bin/python3', ['training/export.py', '--config', 'tiny', '--random-seed', '0', '--out', model], { cwd: root });
  }, 600_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('packs the prebuilt addon, the built JS and the sample, and no build output or tests', () => {
    expect(packedFiles).toContain('prebuilds/linux-x64/sct-diff.napi.glibc.node');
    expect(packedFiles).toContain('dist/index.js');
    expect(packedFiles).toContain('dist/index.d.ts');
    expect(packedFiles).toContain('bin/sct-diff.js');
    expect(packedFiles).toContain('samples/sample.mp4');
    expect(packedFiles.filter((f) => /^(build|test|training|node_modules)\//.test(f))).toEqual([]);
  });

  it('installed from the prebuild: nothing was compiled in the installed package', () => {
    expect(existsSync(path.join(installed, 'prebuilds', 'linux-x64', 'sct-diff.napi.glibc.node'))).toBe(true);
    expect(existsSync(path.join(installed, 'build'))).toBe(false);
  });

  it('runs the quick start on the CPU: finite boxes inside the frame for the sample clip', () => {
    writeFileSync(path.join(project, 'quick-start.mjs'), QUICK_START);
    const output = run(
      process.execPath,
      ['quick-start.mjs', model, path.join(installed, 'samples', 'sample.mp4'), String(QUICK_START_FRAMES)],
      { cwd: project, env: cleanEnv({}) },
    );
    const report = JSON.parse(output.trim().split('\n').pop() ?? '') as {
      backend: string;
      addon: string;
      width: number;
      height: number;
      results: { frameIndex: number; box?: { x: number; y: number; width: number; height: number }; score?: number }[];
    };
    expect(report.backend).toBe('cpu');
    expect(report.addon).toBe(path.join(installed, 'prebuilds', 'linux-x64', 'sct-diff.napi.glibc.node'));
    expect([report.width, report.height]).toEqual([320, 240]);
    expect(report.results.map((r) => r.frameIndex)).toEqual(Array.from({ length: QUICK_START_FRAMES }, (_, k) => k));
    for (const { box, score } of report.results.slice(1)) {
      if (!box || score === undefined) throw new Error('a tracked frame without a box');
      for (const v of [box.x, box.y, box.width, box.height, score]) expect(Number.isFinite(v)).toBe(true);
      expect(box.width).toBeGreaterThan(0);
      expect(box.height).toBeGreaterThan(0);
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(320);
      expect(box.y + box.height).toBeLessThanOrEqual(240);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
  });

  it('`npx sct-diff track` tracks the whole sample clip into a JSON file', () => {
    const json = path.join(project, 'sample-boxes.json');
    const box = [SAMPLE_INIT_BOX.x, SAMPLE_INIT_BOX.y, SAMPLE_INIT_BOX.width, SAMPLE_INIT_BOX.height].join(',');
    run(
      process.execPath,
      [npxCliPath, '--offline', '--no', '--', 'sct-diff', 'track', path.join(installed, 'samples', 'sample.mp4'), '--box', box, '--model', model, '--device', 'cpu', '--json', json, '--quiet'],
      { cwd: project, env: cleanEnv({}) },
    );
    const entries = JSON.parse(readFileSync(json, 'utf8')) as { frame: number; box: number[]; score: number }[];
    expect(entries.map((e) => e.frame)).toEqual(Array.from({ length: 60 }, (_, k) => k));
    expect(entries[0]?.box).toEqual([42.5, 92, 64, 56]);
    for (const { box: [x, y, w, h] } of entries) {
      for (const v of [x, y, w, h]) expect(Number.isFinite(v)).toBe(true);
      expect((x ?? -1) >= 0 && (y ?? -1) >= 0 && (x ?? 0) + (w ?? 0) <= 320 && (y ?? 0) + (h ?? 0) <= 240).toBe(true);
    }
  });

  it('`npx sct-diff --help` prints the usage', () => {
    const output = run(process.execPath, [npxCliPath, '--offline', '--no', '--', 'sct-diff', '--help'], { cwd: project, env: cleanEnv({}) });
    expect(output).toMatch(/sct-diff/);
    expect(output).toMatch(/track/);
  });
});
