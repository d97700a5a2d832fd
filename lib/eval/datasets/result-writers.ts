/**
 * Writers of tracker results in each benchmark's own layout, so the files can go straight to
 * the official toolkits or evaluation servers:
 * - GOT-10k: `<dir>/<seq>/<seq>_001.txt` (x,y,w,h with 3 decimals) and `<dir>/<seq>/<seq>_time.txt`
 *   (seconds, 8 decimals), as got10k's `ExperimentGOT10k._record`.
 * - OTB / LaSOT (got10k toolkit): `<dir>/<seq>.txt` and `<dir>/times/<seq>_time.txt`.
 * - TrackingNet: `<dir>/<seq>.txt` (comma-separated, the server's format).
 * - pytracking: `<dir>/<seq>.txt` tab-separated integers and `<dir>/<seq>_time.txt`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, InvalidBoxError } from '../../errors.js';
import { describeReceived } from '../../geometry/describe.js';
import { IoError } from '../../io/errors.js';
import type { Box } from '../types.js';

/** Layouts {@link writeResult} can write. */
export type ResultFormat = 'got10k' | 'otb' | 'lasot' | 'trackingnet' | 'pytracking';

/** A tracker's output for one sequence. */
export interface SequenceResult {
  /** Sequence name; becomes part of file names, so it may not contain path separators. */
  name: string;
  /** One box per frame. */
  boxes: readonly Box[];
  /** Seconds per frame (same length as `boxes`). Default: no time file. */
  times?: readonly number[];
}

/** How {@link formatBoxLines} prints numbers. */
export interface BoxLineFormat {
  /** Between the four numbers. Default: `","`. */
  separator?: string;
  /** Digits after the point, like printf `%.Nf`; `"integer"` truncates like `%d`. Default: 3. */
  decimals?: number | 'integer';
}

function formatNumber(value: number, decimals: number | 'integer'): string {
  // toFixed rounds the exact binary value like printf, except exact ties (e.g. 0.0625), which it rounds up.
  return decimals === 'integer' ? String(Math.trunc(value)) : value.toFixed(decimals);
}

/** One line per box, "x,y,w,h" by default with 3 decimals (got10k's `fmt='%.3f'`), newline-terminated. */
export function formatBoxLines(boxes: readonly Box[], format: BoxLineFormat = {}): string {
  const separator = format.separator ?? ',';
  const decimals = format.decimals ?? 3;
  return boxes
    .map((b) => [b.x, b.y, b.width, b.height].map((v) => formatNumber(v, decimals)).join(separator) + '\n')
    .join('');
}

/** One time per line with 8 decimals (got10k's `fmt='%.8f'`). */
export function formatTimeLines(times: readonly number[]): string {
  return times.map((t) => `${t.toFixed(8)}\n`).join('');
}

function validateResult(result: SequenceResult): void {
  if (typeof result?.name !== 'string' || result.name.length === 0 || /[/\\]/.test(result.name) || result.name === '.' || result.name === '..') {
    throw new InvalidArgumentError(
      `Expected a sequence name without path separators for the result but received ${describeReceived(result?.name)}`,
    );
  }
  if (!Array.isArray(result.boxes)) {
    throw new InvalidArgumentError(`Expected an array of boxes for result "${result.name}" but received ${describeReceived(result.boxes)}`);
  }
  result.boxes.forEach((b, i) => {
    for (const field of ['x', 'y', 'width', 'height'] as const) {
      const v = (b as unknown as Record<string, unknown>)?.[field];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new InvalidBoxError(`Expected a finite ${field} for boxes[${i}] of result "${result.name}" but received ${describeReceived(v)}`);
      }
    }
  });
  if (result.times !== undefined && result.times.length !== result.boxes.length) {
    throw new InvalidArgumentError(
      `Expected ${result.boxes.length} times (one per box) for result "${result.name}" but received ${result.times.length}`,
    );
  }
}

async function writeText(file: string, text: string): Promise<string> {
  try {
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, text, 'utf8');
    return file;
  } catch (cause) {
    throw new IoError(`Could not write result file "${file}": ${(cause as Error).message}`, { path: file, cause });
  }
}

/**
 * Write a GOT-10k result: `<dir>/<name>/<name>_<rep>.txt` (3-digit repetition, default 1) and,
 * with times, `<dir>/<name>/<name>_time.txt`. Returns the written paths.
 */
export async function writeGot10kResult(dir: string, result: SequenceResult, repetition = 1): Promise<string[]> {
  validateResult(result);
  if (!Number.isInteger(repetition) || repetition < 1 || repetition > 999) {
    throw new InvalidArgumentError(`Expected an integer repetition from 1 to 999 but received ${describeReceived(repetition)}`);
  }
  const seqDir = join(dir, result.name);
  const written = [await writeText(join(seqDir, `${result.name}_${String(repetition).padStart(3, '0')}.txt`), formatBoxLines(result.boxes))];
  if (result.times) written.push(await writeText(join(seqDir, `${result.name}_time.txt`), formatTimeLines(result.times)));
  return written;
}

/** Write an OTB/LaSOT result in the got10k toolkit layout: `<dir>/<name>.txt` and `<dir>/times/<name>_time.txt`. */
export async function writeOtbResult(dir: string, result: SequenceResult): Promise<string[]> {
  validateResult(result);
  const written = [await writeText(join(dir, `${result.name}.txt`), formatBoxLines(result.boxes))];
  if (result.times) written.push(await writeText(join(dir, 'times', `${result.name}_time.txt`), formatTimeLines(result.times)));
  return written;
}

/** Write a TrackingNet result: `<dir>/<name>.txt`, comma-separated with 3 decimals (times are not part of the format). */
export async function writeTrackingNetResult(dir: string, result: SequenceResult): Promise<string[]> {
  validateResult(result);
  return [await writeText(join(dir, `${result.name}.txt`), formatBoxLines(result.boxes))];
}

/** Write a pytracking result: `<dir>/<name>.txt` tab-separated integers (`%d`) and `<dir>/<name>_time.txt`. */
export async function writePytrackingResult(dir: string, result: SequenceResult): Promise<string[]> {
  validateResult(result);
  const written = [await writeText(join(dir, `${result.name}.txt`), formatBoxLines(result.boxes, { separator: '\t', decimals: 'integer' }))];
  if (result.times) written.push(await writeText(join(dir, `${result.name}_time.txt`), formatTimeLines(result.times)));
  return written;
}

/** Write a result in the layout of `format` (see the module comment). Returns the written paths. */
export async function writeResult(format: ResultFormat, dir: string, result: SequenceResult): Promise<string[]> {
  switch (format) {
    case 'got10k':
      return writeGot10kResult(dir, result);
    case 'otb':
    case 'lasot':
      return writeOtbResult(dir, result);
    case 'trackingnet':
      return writeTrackingNetResult(dir, result);
    case 'pytracking':
      return writePytrackingResult(dir, result);
    default:
      throw new InvalidArgumentError(
        `Expected result format "got10k", "otb", "lasot", "trackingnet" or "pytracking" but received ${describeReceived(format)}`,
      );
  }
}
