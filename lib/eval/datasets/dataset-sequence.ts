/**
 * What every dataset reader returns for one sequence, and the folder helpers they share.
 * Readers only list and parse text: images are never opened (frames are paths).
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { IoError } from '../../io/errors.js';
import { FRAME_IMAGE_EXTENSIONS, sortFrameNames } from '../../io/frames-folder.js';
import type { Box, ImageSize } from '../types.js';

/** One benchmark sequence on disk. */
export interface DatasetSequence {
  /** Sequence name as the benchmark spells it (e.g. `GOT-10k_Val_000001`, `airplane-1`). */
  name: string;
  /** Absolute or root-relative paths of the frame images, in frame order. */
  frames: string[];
  /**
   * Ground-truth boxes. For withheld test splits (GOT-10k test, TrackingNet TEST) only the
   * first frame's box is given, so this can be shorter than `frames`.
   */
  groundTruth: Box[];
  /** Whether the target is visible per frame, where the benchmark says (GOT-10k, LaSOT). */
  visible?: boolean[];
  /** GOT-10k cover label per frame (0 = absent … 8 = fully visible). */
  cover?: number[];
  /** Image size, where the benchmark records it (GOT-10k `meta_info.ini`). */
  imageSize?: ImageSize;
}

/** Natural order for names with numbers: "car-2" before "car-10". */
export const naturalCompare = new Intl.Collator('en', { numeric: true, sensitivity: 'base' }).compare;

/** Whether `path` exists and is a directory. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Whether `path` exists and is a file. */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Names of the sub-directories of `dir`, in natural order; an {@link IoError} if `dir` cannot be listed. */
export async function listSubdirectories(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (cause) {
    throw new IoError(`Could not list dataset folder "${dir}": ${(cause as Error).message}`, { path: dir, cause });
  }
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(naturalCompare);
}

/**
 * Image files of a frames folder in frame order ("2.jpg" before "10.jpg"), as paths joined to
 * `dir`. An {@link IoError} if the folder cannot be listed or holds no image.
 */
export async function listFrameFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw new IoError(`Could not list frames folder "${dir}": ${(cause as Error).message}`, { path: dir, cause });
  }
  const images = names.filter((n) => FRAME_IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()));
  if (images.length === 0) {
    throw new IoError(`Expected image files (${FRAME_IMAGE_EXTENSIONS.join(', ')}) in frames folder "${dir}" but received none`, {
      path: dir,
    });
  }
  return sortFrameNames(images).map((n) => join(dir, n));
}
