/** One entry point for "a video file or a frames folder", as the `sct-diff` command takes. */
import { stat } from 'node:fs/promises';
import { IoError } from './errors.js';
import { openFrameFolder } from './frames-folder.js';
import { openVideo, type FrameSource, type OpenVideoOptions } from './video-reader.js';

/**
 * Open `path` as a frames folder when it is a folder, else as a video file.
 * @throws IoError (or FrameSizeMismatchError) as {@link openVideo} / {@link openFrameFolder}.
 */
export async function openFrames(path: string, options: OpenVideoOptions = {}): Promise<FrameSource> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (cause) {
    throw new IoError(`Could not open "${path}": no such video file or frames folder`, { path, cause });
  }
  return isFolder ? openFrameFolder(path, options) : openVideo(path, options);
}
