/**
 * OTB-100 (and the OTB-style UAV/NfS mirrors) on disk: `<root>/<Seq>/img/0001.jpg …` and
 * `groundtruth_rect.txt` with commas, tabs or spaces between the numbers. Sequences with two
 * targets (Jogging, Skating2) have `groundtruth_rect.1.txt` and `.2.txt` instead; they become
 * two sequences named `<Seq>.1` and `<Seq>.2` sharing the images.
 *
 * Frame ranges are not applied: a few OTB sequences (e.g. David, Tiger1) annotate fewer frames
 * than their folder holds; `frames` lists every image and `groundTruth` every annotation.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { IoError } from '../../io/errors.js';
import { readBoxFile } from './annotation-file.js';
import { isFile, listFrameFiles, listSubdirectories, naturalCompare, type DatasetSequence } from './dataset-sequence.js';

const SINGLE_TARGET_FILE = 'groundtruth_rect.txt';
const MULTI_TARGET_FILE = /^groundtruth_rect\.(\d+)\.txt$/;

async function annotationFiles(dir: string): Promise<{ suffix: string | null; file: string }[]> {
  if (await isFile(join(dir, SINGLE_TARGET_FILE))) return [{ suffix: null, file: join(dir, SINGLE_TARGET_FILE) }];
  const names = (await readdir(dir)).filter((n) => MULTI_TARGET_FILE.test(n)).sort(naturalCompare);
  return names.map((n) => ({ suffix: (MULTI_TARGET_FILE.exec(n) as RegExpExecArray)[1] as string, file: join(dir, n) }));
}

/** OTB sequence names under `root` (`<Seq>` or `<Seq>.<k>` for multi-target folders), in natural order. */
export async function listOtbSequences(root: string): Promise<string[]> {
  const names: string[] = [];
  for (const folder of await listSubdirectories(root)) {
    for (const { suffix } of await annotationFiles(join(root, folder))) names.push(suffix === null ? folder : `${folder}.${suffix}`);
  }
  return names;
}

/** Read one OTB sequence by name (`Basketball`, or `Jogging.1` for the first target of Jogging). */
export async function readOtbSequence(root: string, name: string): Promise<DatasetSequence> {
  const multi = /^(.*)\.(\d+)$/.exec(name);
  const folder = multi && !(await isFile(join(root, name, SINGLE_TARGET_FILE))) ? (multi[1] as string) : name;
  const dir = join(root, folder);
  const file = folder === name ? join(dir, SINGLE_TARGET_FILE) : join(dir, `groundtruth_rect.${(multi as RegExpExecArray)[2]}.txt`);
  if (!(await isFile(file))) {
    throw new IoError(`Expected an annotation file "${file}" for OTB sequence "${name}" but received none`, { path: file });
  }
  const frames = await listFrameFiles(join(dir, 'img'));
  return { name, frames, groundTruth: await readBoxFile(file) };
}

/** OTB sequences read one at a time. `names` restricts and orders them. Default: all under `root`. */
export async function* readOtbDataset(root: string, names?: readonly string[]): AsyncGenerator<DatasetSequence> {
  for (const name of names ?? (await listOtbSequences(root))) yield await readOtbSequence(root, name);
}
