/**
 * GOT-10k on disk: `<root>/<split>/list.txt` names the sequences; each
 * `<root>/<split>/<seq>/` holds `00000001.jpg …`, `groundtruth.txt` (x,y,w,h per line; only
 * the first line in the test split), `absence.label` and `cover.label` (one integer per frame,
 * train/val only) and `meta_info.ini` (with `resolution: (W, H)`).
 */
import { join } from 'node:path';
import { IoError } from '../../io/errors.js';
import { AnnotationFormatError, readBoxFile, readIntegerListFile, readTextFile } from './annotation-file.js';
import { isFile, listFrameFiles, listSubdirectories, type DatasetSequence } from './dataset-sequence.js';
import type { ImageSize } from '../types.js';

/** GOT-10k split folder names. */
export type Got10kSplit = 'train' | 'val' | 'test';

/** Read `resolution: (W, H)` from a `meta_info.ini`; undefined when the line is absent. */
export function parseGot10kResolution(text: string, file: string): ImageSize | undefined {
  const lines = text.split(/\r?\n/);
  const index = lines.findIndex((l) => /^\s*resolution\s*:/.test(l));
  if (index < 0) return undefined;
  const line = lines[index] as string;
  const match = /^\s*resolution\s*:\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*$/.exec(line);
  if (!match) throw new AnnotationFormatError(file, index + 1, 'resolution: (width, height)', line.trim());
  return { width: Number(match[1]), height: Number(match[2]) };
}

/**
 * Sequence names of a GOT-10k split: the lines of `list.txt` when present, else the
 * sub-folders in natural order.
 */
export async function listGot10kSequences(root: string, split: Got10kSplit): Promise<string[]> {
  const listFile = join(root, split, 'list.txt');
  if (await isFile(listFile)) {
    return (await readTextFile(listFile))
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
  }
  return listSubdirectories(join(root, split));
}

/**
 * Read one GOT-10k sequence. `visible` is `absence == 0` and `cover` the cover labels when
 * those files exist; `imageSize` comes from `meta_info.ini` when present. A label file whose
 * length differs from the ground truth's is an {@link IoError}.
 */
export async function readGot10kSequence(root: string, split: Got10kSplit, name: string): Promise<DatasetSequence> {
  const dir = join(root, split, name);
  const frames = await listFrameFiles(dir);
  const groundTruth = await readBoxFile(join(dir, 'groundtruth.txt'));
  const sequence: DatasetSequence = { name, frames, groundTruth };
  const checkLength = (file: string, labels: number[]): number[] => {
    if (labels.length !== groundTruth.length) {
      throw new IoError(
        `Expected ${groundTruth.length} labels (one per ground-truth line) in "${file}" but received ${labels.length}`,
        { path: file },
      );
    }
    return labels;
  };
  const absenceFile = join(dir, 'absence.label');
  if (await isFile(absenceFile)) {
    sequence.visible = checkLength(absenceFile, await readIntegerListFile(absenceFile)).map((a) => a === 0);
  }
  const coverFile = join(dir, 'cover.label');
  if (await isFile(coverFile)) sequence.cover = checkLength(coverFile, await readIntegerListFile(coverFile));
  const metaFile = join(dir, 'meta_info.ini');
  if (await isFile(metaFile)) {
    const size = parseGot10kResolution(await readTextFile(metaFile), metaFile);
    if (size) sequence.imageSize = size;
  }
  return sequence;
}

/** Every sequence of a GOT-10k split, read one at a time (in {@link listGot10kSequences} order). */
export async function* readGot10kDataset(root: string, split: Got10kSplit): AsyncGenerator<DatasetSequence> {
  for (const name of await listGot10kSequences(root, split)) yield await readGot10kSequence(root, split, name);
}
