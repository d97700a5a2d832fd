/** Video and file I/O: ffmpeg pipes, frames folders, drawing, PNG, OpenCV Mats, model headers. */
export * from './errors.js';
export * from './probe.js';
export * from './video-reader.js';
export * from './frames-folder.js';
export * from './open-frames.js';
export * from './image-size.js';
export * from './video-writer.js';
export * from './draw.js';
export * from './font.js';
export * from './mat.js';
export * from './png.js';
export * from './safetensors-header.js';
export * from './model-summary.js';
