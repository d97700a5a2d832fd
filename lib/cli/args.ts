/** Parsing of option values of the `sct-diff` command, each failure a {@link UsageError}. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Box } from '../geometry/box.js';
import { DEFAULT_SEED } from '../tracker/options.js';
import { UsageError } from './usage-error.js';

/** Options as util.parseArgs returns them. */
export type ParsedValues = Record<string, string | boolean | undefined>;

/**
 * util.parseArgs in strict mode, its errors turned into UsageErrors of `command`.
 * @returns The option values and positionals.
 */
export function parseCommandLine(command: string, argv: string[], options: NonNullable<ParseArgsConfig['options']>): { values: ParsedValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as ParsedValues, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''), command);
  }
}

/**
 * Parse "x,y,w,h" (pixels, top-left corner and size).
 * @throws UsageError, e.g. "Expected a finite positive width in --box but received -3".
 */
export function parseBoxOption(text: string, command: string): Box {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length !== 4 || parts.some((part) => part === '')) {
    throw new UsageError(`Expected --box as four comma-separated numbers x,y,w,h but received "${text}"`, command);
  }
  const [x, y, width, height] = parts.map(Number) as [number, number, number, number];
  const fields: Array<[string, number, boolean]> = [['x', x, false], ['y', y, false], ['width', width, true], ['height', height, true]];
  for (const [name, value, positive] of fields) {
    if (!Number.isFinite(value) || (positive && value <= 0)) {
      throw new UsageError(`Expected a finite ${positive ? 'positive ' : ''}${name} in --box but received ${parts[fields.findIndex((f) => f[0] === name)]}`, command);
    }
  }
  return { x, y, width, height };
}

/**
 * Parse an integer option within [min, max].
 * @throws UsageError, e.g. "Expected an integer of at least 1 for --stride but received 0".
 */
export function parseIntegerOption(text: string | undefined, name: string, command: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^[-+]?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`Expected an integer ${range} for --${name} but received "${text}"`, command);
  }
  return value;
}

/** A finite number option accepted by `accept`, else a UsageError saying it expected `expected`. */
function parseFiniteNumberOption(
  text: string | undefined,
  name: string,
  command: string,
  accept: (value: number) => boolean,
  expected: string,
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || !accept(value)) {
    throw new UsageError(`Expected ${expected} for --${name} but received "${text}"`, command);
  }
  return value;
}

/**
 * Parse a finite positive number option.
 * @throws UsageError.
 */
export function parsePositiveNumberOption(text: string | undefined, name: string, command: string): number | undefined {
  return parseFiniteNumberOption(text, name, command, (value) => value > 0, 'a finite positive number');
}

/**
 * Parse a finite number option of at least 0.
 * @throws UsageError.
 */
export function parseNonNegativeNumberOption(text: string | undefined, name: string, command: string): number | undefined {
  return parseFiniteNumberOption(text, name, command, (value) => value >= 0, 'a finite number of at least 0');
}

/**
 * Check that `text` is one of `choices`.
 * @throws UsageError, e.g. "Expected --device to be one of auto, cpu, cuda but received "gpu"".
 */
export function parseChoiceOption<T extends string>(text: string | undefined, name: string, command: string, choices: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`Expected --${name} to be one of ${choices.join(', ')} but received "${text}"`, command);
  }
  return text as T;
}

/** The Tracker's default noise seed as the help texts print it (0x-hex, the form docs/ use). */
export const DEFAULT_SEED_TEXT = `0x${DEFAULT_SEED.toString(16).toUpperCase()}`;

/**
 * Parse `--seed`: an integer in [0, 2^64), decimal or 0x-hex, the Tracker's `seed` (decoder noise).
 * @throws UsageError.
 */
export function parseSeedOption(text: string | undefined, command: string): bigint | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  const value = /^(\d+|0x[0-9a-f]+)$/i.test(trimmed) ? BigInt(trimmed) : -1n;
  if (value < 0n || value >= 1n << 64n) {
    throw new UsageError(`Expected an integer from 0 to 2^64 - 1 (decimal or 0x-hex) for --seed but received "${text}"`, command);
  }
  return value;
}

/** The command-line options shared by `track` and `eval` that set the Tracker's dynamic template policy. */
export const TEMPLATE_OPTIONS = {
  'template-threshold': { type: 'string' },
  'template-interval': { type: 'string' },
} as const;

/**
 * Parse `--template-threshold` and `--template-interval` into the Tracker's option names
 * (undefined where not given, for the Tracker's defaults).
 * @throws UsageError.
 */
export function parseTemplateOptions(
  values: Record<string, unknown>,
  command: string,
): { templateUpdateThreshold: number | undefined; templateUpdateInterval: number | undefined } {
  return {
    templateUpdateThreshold: parseNonNegativeNumberOption(values['template-threshold'] as string | undefined, 'template-threshold', command),
    templateUpdateInterval: parseIntegerOption(values['template-interval'] as string | undefined, 'template-interval', command, 1),
  };
}
