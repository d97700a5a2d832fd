/** Box formats, crop parameters, map-back and clipping. (describe.ts is internal: import it by path.) */
export * from './box.js';
export * from './crop.js';
export * from './round.js';
