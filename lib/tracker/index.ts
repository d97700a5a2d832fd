/**
 * The Tracker's public surface. The sliding-window building blocks (window.ts, reference.ts,
 * refinement.ts, template.ts, frame.ts) stay internal: import them by path in tests.
 */
export { Tracker, type TrackResult, type TrackedFrame } from './tracker.js';
export {
  DEFAULT_SEED,
  DEFAULT_STRIDE,
  defaultModelPath,
  type LatencyMode,
  type TrackerLogLevel,
  type TrackerLogger,
  type TrackerOptions,
} from './options.js';
export { DEFAULT_TEMPLATE_UPDATE_INTERVAL, DEFAULT_TEMPLATE_UPDATE_THRESHOLD } from './template.js';
