/**
 * How a rejected value is written into an error message. Every validator in lib/geometry and
 * lib/model uses this so messages share one shape:
 * "Expected a finite positive width for box but received -3".
 */

/**
 * Render `value` for the "but received …" part of an error message: numbers as JavaScript
 * prints them (`-3`, `NaN`, `Infinity`), strings quoted, arrays and objects by kind, so a huge
 * buffer never ends up inside a message.
 */
export function describeReceived(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return ArrayBuffer.isView(value) ? `a ${value.constructor.name}` : 'an object';
  }
}
