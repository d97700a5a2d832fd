/**
 * The `eval` subcommand's access to benchmarks: lib/eval's dataset readers and result writers,
 * plus the choice of split from `--root`.
 */
import { basename, dirname, join } from 'node:path';
import { stat } from 'node:fs/promises';
import { readGot10kDataset, type Got10kSplit } from '../eval/datasets/got10k.js';
import { readLasotDataset } from '../eval/datasets/lasot.js';
import { readOtbDataset } from '../eval/datasets/otb.js';
import { readTrackingNetDataset, listTrackingNetChunks, type TrackingNetChunk } from '../eval/datasets/trackingnet.js';
import { readTextFile } from '../eval/datasets/annotation-file.js';
import { writeResult } from '../eval/datasets/result-writers.js';
import type { DatasetSequence } from '../eval/datasets/dataset-sequence.js';
import { IoError } from '../io/errors.js';
import type { CliBenchmarkAccess, CliBenchmarkSequence, CliDatasetName } from './dependencies.js';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function collect(sequences: AsyncIterable<DatasetSequence>): Promise<CliBenchmarkSequence[]> {
  const all: CliBenchmarkSequence[] = [];
  for await (const s of sequences) all.push(s);
  return all;
}

/**
 * GOT-10k: `--root` may be a split folder (…/GOT-10k/val) or the dataset folder, where `val`
 * is used (the split with public ground truth).
 */
async function readGot10k(root: string): Promise<CliBenchmarkSequence[]> {
  const last = basename(root);
  if (last === 'train' || last === 'val' || last === 'test') return collect(readGot10kDataset(dirname(root), last as Got10kSplit));
  if (await exists(join(root, 'val'))) return collect(readGot10kDataset(root, 'val'));
  throw new IoError(`Expected a GOT-10k split folder (train, val or test) or a folder containing "val" at "${root}" but received neither`, { path: root });
}

/** TrackingNet: `--root` may be a chunk folder (…/TEST, …/TRAIN_3) or the dataset folder, where TEST is used when present. */
async function readTrackingNet(root: string): Promise<CliBenchmarkSequence[]> {
  const last = basename(root);
  if (last === 'TEST' || /^TRAIN_\d+$/.test(last)) return collect(readTrackingNetDataset(dirname(root), [last as TrackingNetChunk]));
  const chunks = await listTrackingNetChunks(root);
  if (chunks.length === 0) throw new IoError(`Expected TrackingNet chunk folders (TEST, TRAIN_0 …) under "${root}" but received none`, { path: root });
  return collect(readTrackingNetDataset(root, chunks.includes('TEST') ? ['TEST'] : chunks));
}

/** LaSOT: the 280 test sequences of `testing_set.txt` when the file is in `--root`, else every sequence. */
async function readLasot(root: string): Promise<CliBenchmarkSequence[]> {
  const listFile = join(root, 'testing_set.txt');
  if (await exists(listFile)) {
    const names = (await readTextFile(listFile)).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    return collect(readLasotDataset(root, names));
  }
  return collect(readLasotDataset(root));
}

/** Benchmark access through lib/eval. */
export function evalBenchmarkAccess(): CliBenchmarkAccess {
  return {
    async readSequences(dataset: CliDatasetName, root: string) {
      if (!(await exists(root))) throw new IoError(`Could not open the ${dataset} folder "${root}": no such folder`, { path: root });
      switch (dataset) {
        case 'got10k':
          return readGot10k(root);
        case 'lasot':
          return readLasot(root);
        case 'trackingnet':
          return readTrackingNet(root);
        case 'otb':
          return collect(readOtbDataset(root));
      }
    },
    writeResults: (dataset, folder, sequence, boxes, secondsPerFrame) => writeResult(dataset, folder, { name: sequence.name, boxes, times: secondsPerFrame }),
  };
}
