/**
 * TrackingNet on disk: chunk folders `<root>/TRAIN_0 … TRAIN_11` and `<root>/TEST`, each with
 * `frames/<seq>/0.jpg, 1.jpg, …` and `anno/<seq>.txt` (x,y,w,h per line; only the first line
 * in TEST).
 */
import { join } from 'node:path';
import { IoError } from '../../io/errors.js';
import { readBoxFile } from './annotation-file.js';
import { isDirectory, listFrameFiles, listSubdirectories, type DatasetSequence } from './dataset-sequence.js';

/** A TrackingNet chunk folder name. */
export type TrackingNetChunk = 'TEST' | `TRAIN_${number}`;

/** Chunk folders present under `root` (`TRAIN_<k>` in numeric order, then `TEST`). */
export async function listTrackingNetChunks(root: string): Promise<TrackingNetChunk[]> {
  const dirs = await listSubdirectories(root);
  const train = dirs.filter((d) => /^TRAIN_\d+$/.test(d)) as TrackingNetChunk[];
  return dirs.includes('TEST') ? [...train, 'TEST'] : train;
}

/** Sequence names of one chunk: the folders under `frames/`. */
export async function listTrackingNetSequences(root: string, chunk: TrackingNetChunk): Promise<string[]> {
  const framesDir = join(root, chunk, 'frames');
  if (!(await isDirectory(framesDir))) {
    throw new IoError(`Expected a frames folder at "${framesDir}" but received none`, { path: framesDir });
  }
  return listSubdirectories(framesDir);
}

/** Read one TrackingNet sequence of a chunk (frames numbered from 0, sorted numerically). */
export async function readTrackingNetSequence(root: string, chunk: TrackingNetChunk, name: string): Promise<DatasetSequence> {
  const frames = await listFrameFiles(join(root, chunk, 'frames', name));
  const groundTruth = await readBoxFile(join(root, chunk, 'anno', `${name}.txt`));
  return { name, frames, groundTruth };
}

/** TrackingNet sequences read one at a time. Default chunks: every chunk found under `root`. */
export async function* readTrackingNetDataset(root: string, chunks?: readonly TrackingNetChunk[]): AsyncGenerator<DatasetSequence> {
  for (const chunk of chunks ?? (await listTrackingNetChunks(root))) {
    for (const name of await listTrackingNetSequences(root, chunk)) yield await readTrackingNetSequence(root, chunk, name);
  }
}
