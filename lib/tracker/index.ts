/** The Tracker and its sliding-window building blocks. */
export * from './frame.js';
export * from './options.js';
export * from './reference.js';
export * from './refinement.js';
export * from './template.js';
export * from './tracker.js';
export * from './window.js';
