/**
 * Parsing of the plain-text annotation files of tracking benchmarks: one box per line
 * (`groundtruth.txt`, result files) and lists of per-frame integer labels (`cover.label`,
 * `full_occlusion.txt`). Malformed content is reported with the file and 1-based line.
 */
import { readFile } from 'node:fs/promises';
import { IoError } from '../../io/errors.js';
import type { Box } from '../types.js';

/** An annotation file's line could not be parsed; names the file and the 1-based line. */
export class AnnotationFormatError extends IoError {
  /** The annotation file. */
  readonly file: string;
  /** 1-based line number of the offending line. */
  readonly line: number;
  constructor(file: string, line: number, expected: string, received: string) {
    const shown = received.length > 60 ? `${received.slice(0, 60)}…` : received;
    super(`Expected ${expected} in "${file}" line ${line} but received ${JSON.stringify(shown)}`, { path: file });
    this.file = file;
    this.line = line;
  }
}

/** Decimal or scientific notation, as numpy's `loadtxt` accepts; `nan` (any case) is NaN. */
const NUMBER_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Separators the benchmarks use: commas (GOT-10k, LaSOT), tabs or spaces (some OTB files). */
const FIELD_SEPARATOR = /\s*,\s*|\s+/;

function parseNumber(token: string): number | undefined {
  if (NUMBER_PATTERN.test(token)) return Number(token);
  if (/^[+-]?nan$/i.test(token)) return Number.NaN;
  return undefined;
}

/** Read a text file, turning a missing or unreadable file into an {@link IoError}. */
export async function readTextFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new IoError(`Could not read annotation file "${file}": ${(cause as Error).message}`, { path: file, cause });
  }
}

function contentLines(text: string): { text: string; line: number }[] {
  return text
    .split(/\r?\n|\r/)
    .map((t, i) => ({ text: t.trim(), line: i + 1 }))
    .filter((l) => l.text.length > 0);
}

/**
 * Parse box lines "x,y,w,h" (commas, tabs or spaces between the four numbers; blank lines
 * skipped, as numpy's `loadtxt`). `nan` is accepted and read as NaN (some benchmarks mark
 * unannotated frames so). `file` only names the source in errors.
 */
export function parseBoxLines(text: string, file: string): Box[] {
  return contentLines(text).map(({ text: line, line: number }) => {
    const fields = line.split(FIELD_SEPARATOR);
    const values = fields.map(parseNumber);
    if (fields.length !== 4 || values.some((v) => v === undefined)) {
      throw new AnnotationFormatError(file, number, '4 numbers x, y, width, height separated by commas, tabs or spaces', line);
    }
    const [x, y, width, height] = values as [number, number, number, number];
    return { x, y, width, height };
  });
}

/** Read a box-per-line file (ground truth or tracker results) with {@link parseBoxLines}. */
export async function readBoxFile(file: string): Promise<Box[]> {
  return parseBoxLines(await readTextFile(file), file);
}

/**
 * Parse one number per line (time files; `nan` reads as NaN, blank lines are skipped).
 */
export function parseNumberLines(text: string, file: string): number[] {
  return contentLines(text).map(({ text: line, line: number }) => {
    const value = parseNumber(line);
    if (value === undefined) throw new AnnotationFormatError(file, number, 'one number per line', line);
    return value;
  });
}

/**
 * Parse a list of integer labels separated by commas, whitespace or line breaks — one per line
 * (`cover.label`, `absence.label`) or all on one line (LaSOT's `full_occlusion.txt`).
 */
export function parseIntegerList(text: string, file: string): number[] {
  const labels: number[] = [];
  for (const { text: line, line: number } of contentLines(text)) {
    for (const token of line.split(FIELD_SEPARATOR)) {
      if (token.length === 0) continue;
      if (!/^[+-]?\d+$/.test(token)) {
        throw new AnnotationFormatError(file, number, 'integer labels separated by commas, spaces or line breaks', line);
      }
      labels.push(Number(token));
    }
  }
  return labels;
}

/** Read an integer label file with {@link parseIntegerList}. */
export async function readIntegerListFile(file: string): Promise<number[]> {
  return parseIntegerList(await readTextFile(file), file);
}
