/** Tokenizer, cosine schedule + DDIM math, and model configs. */
export * from './config.js';
export * from './schedule.js';
export * from './tokenizer.js';
