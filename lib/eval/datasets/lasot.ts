/**
 * LaSOT on disk: `<root>/<class>/<class>-<n>/` holds `img/00000001.jpg …`,
 * `groundtruth.txt` (x,y,w,h per line), `full_occlusion.txt` and `out_of_view.txt` (0/1 per
 * frame, comma-separated on one line). The target is visible where neither flag is set.
 */
import { join } from 'node:path';
import { IoError } from '../../io/errors.js';
import { readBoxFile, readIntegerListFile } from './annotation-file.js';
import { isFile, listFrameFiles, listSubdirectories, naturalCompare, type DatasetSequence } from './dataset-sequence.js';

/** The class of a LaSOT sequence name: everything before the last "-<n>" ("airplane-1" → "airplane"). */
export function lasotClassOf(name: string): string {
  const match = /^(.*)-\d+$/.exec(name);
  return match ? (match[1] as string) : name;
}

/** All LaSOT sequence names under `root` (class folders, then `<class>-<n>` folders), in natural order. */
export async function listLasotSequences(root: string): Promise<string[]> {
  const names: string[] = [];
  for (const cls of await listSubdirectories(root)) {
    for (const seq of await listSubdirectories(join(root, cls))) {
      if (lasotClassOf(seq) === cls) names.push(seq);
    }
  }
  return names.sort(naturalCompare);
}

async function readFlags(file: string, expected: number): Promise<boolean[] | undefined> {
  if (!(await isFile(file))) return undefined;
  const flags = await readIntegerListFile(file);
  if (flags.length !== expected) {
    throw new IoError(`Expected ${expected} flags (one per ground-truth line) in "${file}" but received ${flags.length}`, {
      path: file,
    });
  }
  return flags.map((f) => f !== 0);
}

/** Read one LaSOT sequence by name ("airplane-1"); `visible` = not fully occluded and not out of view. */
export async function readLasotSequence(root: string, name: string): Promise<DatasetSequence> {
  const dir = join(root, lasotClassOf(name), name);
  const frames = await listFrameFiles(join(dir, 'img'));
  const groundTruth = await readBoxFile(join(dir, 'groundtruth.txt'));
  const sequence: DatasetSequence = { name, frames, groundTruth };
  const occluded = await readFlags(join(dir, 'full_occlusion.txt'), groundTruth.length);
  const outOfView = await readFlags(join(dir, 'out_of_view.txt'), groundTruth.length);
  if (occluded || outOfView) {
    sequence.visible = groundTruth.map((_, i) => !(occluded?.[i] ?? false) && !(outOfView?.[i] ?? false));
  }
  return sequence;
}

/**
 * LaSOT sequences read one at a time. `names` restricts and orders them (e.g. the 280 lines of
 * `testing_set.txt`). Default: every sequence found under `root`.
 */
export async function* readLasotDataset(root: string, names?: readonly string[]): AsyncGenerator<DatasetSequence> {
  for (const name of names ?? (await listLasotSequences(root))) yield await readLasotSequence(root, name);
}
