/** Box formats, crop parameters, map-back and clipping. */
export * from './box.js';
export * from './crop.js';
export * from './describe.js';
export * from './round.js';
