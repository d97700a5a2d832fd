/**
 * Readers of tracker result files written in each benchmark's layout (by
 * {@link writeResult} or by other trackers), so stored results can be evaluated again.
 */
import { join } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { describeReceived } from '../../geometry/describe.js';
import { parseNumberLines, readBoxFile, readTextFile } from './annotation-file.js';
import { isFile } from './dataset-sequence.js';
import type { ResultFormat, SequenceResult } from './result-writers.js';

async function readTimes(file: string): Promise<number[] | undefined> {
  return (await isFile(file)) ? parseNumberLines(await readTextFile(file), file) : undefined;
}

function withTimes(result: SequenceResult, times: number[] | undefined): SequenceResult {
  return times === undefined ? result : { ...result, times };
}

/** Read `<dir>/<name>/<name>_<rep>.txt` (default repetition 1) and, when present, `<name>_time.txt`. */
export async function readGot10kResult(dir: string, name: string, repetition = 1): Promise<SequenceResult> {
  const seqDir = join(dir, name);
  const boxes = await readBoxFile(join(seqDir, `${name}_${String(repetition).padStart(3, '0')}.txt`));
  return withTimes({ name, boxes }, await readTimes(join(seqDir, `${name}_time.txt`)));
}

/** Read an OTB/LaSOT result in the got10k toolkit layout: `<dir>/<name>.txt` and `<dir>/times/<name>_time.txt`. */
export async function readOtbResult(dir: string, name: string): Promise<SequenceResult> {
  const boxes = await readBoxFile(join(dir, `${name}.txt`));
  return withTimes({ name, boxes }, await readTimes(join(dir, 'times', `${name}_time.txt`)));
}

/** Read a TrackingNet result `<dir>/<name>.txt`. */
export async function readTrackingNetResult(dir: string, name: string): Promise<SequenceResult> {
  return { name, boxes: await readBoxFile(join(dir, `${name}.txt`)) };
}

/** Read a pytracking result: `<dir>/<name>.txt` (tabs or commas) and `<dir>/<name>_time.txt`. */
export async function readPytrackingResult(dir: string, name: string): Promise<SequenceResult> {
  const boxes = await readBoxFile(join(dir, `${name}.txt`));
  return withTimes({ name, boxes }, await readTimes(join(dir, `${name}_time.txt`)));
}

/** Read a result in the layout of `format`; the counterpart of {@link writeResult}. */
export async function readResult(format: ResultFormat, dir: string, name: string): Promise<SequenceResult> {
  if (typeof name !== 'string' || name.length === 0 || /[/\\]/.test(name) || name === '.' || name === '..') {
    throw new InvalidArgumentError(`Expected a sequence name without path separators but received ${describeReceived(name)}`);
  }
  switch (format) {
    case 'got10k':
      return readGot10kResult(dir, name);
    case 'otb':
    case 'lasot':
      return readOtbResult(dir, name);
    case 'trackingnet':
      return readTrackingNetResult(dir, name);
    case 'pytracking':
      return readPytrackingResult(dir, name);
    default:
      throw new InvalidArgumentError(
        `Expected result format "got10k", "otb", "lasot", "trackingnet" or "pytracking" but received ${describeReceived(format)}`,
      );
  }
}
