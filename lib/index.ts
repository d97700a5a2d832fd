/**
 * sct-diff: single-object video tracking with SCT-Diff.
 * This module re-exports the public API; each part lives in its own folder under lib/.
 */
export * from './errors.js';
export * from './geometry/index.js';
export * from './model/index.js';
export * from './io/index.js';
export * from './eval/index.js';
export * from './engine/types.js';
export * from './tracker/index.js';
export { createEngine, type CreateEngineOptions, type DeviceOption } from './engine/create.js';
export { EngineGroup, type EngineGroupBatch, type EngineGroupOptions } from './engine/group.js';
export { availableBackends, type BackendStatus } from './engine/backends.js';
export { inspectModel } from './engine/native.js';
export type { NativeModelInfo, NativeModelInspection } from './engine/loader.js';
