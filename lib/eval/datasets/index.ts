/** Dataset readers (GOT-10k, LaSOT, TrackingNet, OTB) and result writers/readers in each benchmark's layout. */
export {
  AnnotationFormatError,
  parseBoxLines,
  parseIntegerList,
  parseNumberLines,
  readBoxFile,
  readIntegerListFile,
} from './annotation-file.js';
export type { DatasetSequence } from './dataset-sequence.js';
export * from './got10k.js';
export * from './lasot.js';
export * from './trackingnet.js';
export * from './otb.js';
export * from './result-writers.js';
export * from './result-readers.js';
export * from './pair.js';
