// Dataset readers and result writers on small generated folders (empty placeholder images).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidBoxError, SctDiffError } from '../../lib/errors.js';
import {
  AnnotationFormatError,
  evaluate,
  formatBoxLines,
  listGot10kSequences,
  listLasotSequences,
  listOtbSequences,
  listTrackingNetChunks,
  parseBoxLines,
  parseIntegerList,
  readBoxFile,
  readGot10kDataset,
  readGot10kSequence,
  readLasotDataset,
  readLasotSequence,
  readOtbSequence,
  readResult,
  parseNumberLines,
  pairResultWithSequence,
  readTrackingNetDataset,
  writeGot10kResult,
  writeOtbResult,
  writePytrackingResult,
  writeResult,
  writeTrackingNetResult,
  type DatasetSequence,
} from '../../lib/eval/index.js';
import type { Box } from '../../lib/geometry/box.js';
import { IoError } from '../../lib/io/errors.js';

let root: string;

async function put(path: string, content = ''): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), content);
}

async function putFrames(dir: string, names: string[]): Promise<void> {
  for (const n of names) await put(join(dir, n));
}

async function collect(iterable: AsyncIterable<DatasetSequence>): Promise<DatasetSequence[]> {
  const out: DatasetSequence[] = [];
  for await (const s of iterable) out.push(s);
  return out;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sct-diff-eval-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('annotation parsing', () => {
  it('accepts commas, tabs and spaces, skips blank lines, reads nan', () => {
    expect(parseBoxLines('1,2,3,4\n\n5\t6\t7\t8\r\n9 10  11 12\n1.5e1, -2, .5, NaN\n', 'f.txt')).toEqual([
      { x: 1, y: 2, width: 3, height: 4 },
      { x: 5, y: 6, width: 7, height: 8 },
      { x: 9, y: 10, width: 11, height: 12 },
      { x: 15, y: -2, width: 0.5, height: Number.NaN },
    ]);
  });

  it('names the file and the 1-based line of a malformed box line', () => {
    const bad = () => parseBoxLines('1,2,3,4\n\n1,2,x,4\n', '/data/gt.txt');
    expect(bad).toThrow(AnnotationFormatError);
    expect(bad).toThrow('Expected 4 numbers x, y, width, height separated by commas, tabs or spaces in "/data/gt.txt" line 3 but received "1,2,x,4"');
    try {
      bad();
    } catch (e) {
      expect(e).toBeInstanceOf(IoError);
      expect((e as AnnotationFormatError).line).toBe(3);
      expect((e as AnnotationFormatError).file).toBe('/data/gt.txt');
      expect((e as SctDiffError).code).toBe('ERR_IO');
    }
    expect(() => parseBoxLines('1,2,3\n', 'a.txt')).toThrow(/line 1 but received "1,2,3"/);
    expect(() => parseBoxLines('1,2,3,4,5\n', 'a.txt')).toThrow(/line 1/);
    expect(() => parseBoxLines('1,,3,4\n', 'a.txt')).toThrow(/line 1/);
  });

  it('reads integer labels one per line or comma-separated on one line', () => {
    expect(parseIntegerList('0\n1\n\n8\n', 'c.label')).toEqual([0, 1, 8]);
    expect(parseIntegerList('0,0,1,0', 'o.txt')).toEqual([0, 0, 1, 0]);
    expect(() => parseIntegerList('0\n1.5\n', 'c.label')).toThrow('Expected integer labels separated by commas, spaces or line breaks in "c.label" line 2 but received "1.5"');
  });

  it('a missing file is an IoError naming it', async () => {
    await expect(readBoxFile(join(root, 'nope.txt'))).rejects.toThrow(IoError);
    await expect(readBoxFile(join(root, 'nope.txt'))).rejects.toThrow(/nope\.txt/);
  });
});

describe('GOT-10k reader', () => {
  beforeAll(async () => {
    const seq = 'got10k/val/GOT-10k_Val_000002';
    await putFrames(seq, ['00000002.jpg', '00000010.jpg', '00000001.jpg']);
    await put(`${seq}/groundtruth.txt`, '10,20,30,40\n11,21,31,41\n12,22,32,42\n');
    await put(`${seq}/absence.label`, '0\n1\n0\n');
    await put(`${seq}/cover.label`, '8\n0\n5\n');
    await put(`${seq}/meta_info.ini`, '[METAINFO]\nobject_class: car\nresolution: (1280, 720)\n');
    const other = 'got10k/val/GOT-10k_Val_000001';
    await putFrames(other, ['00000001.jpg', '00000002.jpg']);
    await put(`${other}/groundtruth.txt`, '1,2,3,4\n1,2,3,4\n');
    await put('got10k/val/list.txt', 'GOT-10k_Val_000002\nGOT-10k_Val_000001\n');
    await putFrames('got10k/test/GOT-10k_Test_000001', ['00000001.jpg', '00000002.jpg']);
    await put('got10k/test/GOT-10k_Test_000001/groundtruth.txt', '5,6,7,8\n');
  });

  it('reads frames in order, ground truth, visibility, cover and resolution', async () => {
    const s = await readGot10kSequence(join(root, 'got10k'), 'val', 'GOT-10k_Val_000002');
    expect(s.frames.map((f) => f.slice(-12))).toEqual(['00000001.jpg', '00000002.jpg', '00000010.jpg']);
    expect(s.groundTruth[1]).toEqual({ x: 11, y: 21, width: 31, height: 41 });
    expect(s.visible).toEqual([true, false, true]);
    expect(s.cover).toEqual([8, 0, 5]);
    expect(s.imageSize).toEqual({ width: 1280, height: 720 });
  });

  it('lists sequences from list.txt (in its order) or from folders', async () => {
    expect(await listGot10kSequences(join(root, 'got10k'), 'val')).toEqual(['GOT-10k_Val_000002', 'GOT-10k_Val_000001']);
    expect(await listGot10kSequences(join(root, 'got10k'), 'test')).toEqual(['GOT-10k_Test_000001']);
    const all = await collect(readGot10kDataset(join(root, 'got10k'), 'test'));
    expect(all[0]?.groundTruth).toHaveLength(1);
    expect(all[0]?.frames).toHaveLength(2);
    expect(all[0]?.cover).toBeUndefined();
  });

  it('feeds evaluate() directly', async () => {
    const s = await readGot10kSequence(join(root, 'got10k'), 'val', 'GOT-10k_Val_000002');
    const r = evaluate([{ ...s, predictions: s.groundTruth }], { protocol: 'got10k' });
    expect(r.frameCount).toBe(1); // frame 0 dropped, frame 1 has cover 0
    expect(r.averageOverlap).toBe(1);
  });

  it('pairs with a stored result and evaluates like the toolkit', async () => {
    const s = await readGot10kSequence(join(root, 'got10k'), 'val', 'GOT-10k_Val_000002');
    // Frame 1 (cover 0) is ignored, frame 2 overlaps half of the ground truth [12, 22, 32, 42].
    const predictions: Box[] = [s.groundTruth[0] as Box, { x: 0, y: 0, width: 1, height: 1 }, { x: 12, y: 22, width: 32, height: 21 }];
    await writeGot10kResult(join(root, 'got-results'), { name: s.name, boxes: predictions, times: [0.1, 0.1, 0.1] });
    const result = await readResult('got10k', join(root, 'got-results'), s.name);
    const r = evaluate([pairResultWithSequence(s, result)], { protocol: 'got10k' });
    expect(r.frameCount).toBe(1);
    expect(r.averageOverlap).toBeCloseTo(0.5, 12);
    expect(r.speedFps).toBeCloseTo(10, 9);
    expect(() => pairResultWithSequence(s, { name: 'x', boxes: [] })).toThrow(
      'Expected 3 boxes (one per ground-truth frame) for result "x" of sequence "GOT-10k_Val_000002" but received 0',
    );
  });

  it('rejects label files whose length differs from the ground truth, and bad meta_info', async () => {
    const seq = 'got10k/val/bad';
    await putFrames(seq, ['00000001.jpg']);
    await put(`${seq}/groundtruth.txt`, '1,2,3,4\n');
    await put(`${seq}/cover.label`, '8\n8\n');
    await expect(readGot10kSequence(join(root, 'got10k'), 'val', 'bad')).rejects.toThrow(/Expected 1 labels .* but received 2/);
    await put(`${seq}/cover.label`, '8\n');
    await put(`${seq}/meta_info.ini`, 'resolution: 1280x720\n');
    await expect(readGot10kSequence(join(root, 'got10k'), 'val', 'bad')).rejects.toThrow(AnnotationFormatError);
  });

  it('a frames folder without images is an IoError', async () => {
    await put('got10k/val/empty/groundtruth.txt', '1,2,3,4\n');
    await expect(readGot10kSequence(join(root, 'got10k'), 'val', 'empty')).rejects.toThrow(/Expected image files/);
  });
});

describe('LaSOT reader', () => {
  beforeAll(async () => {
    for (const name of ['airplane-1', 'airplane-10', 'airplane-2']) {
      await putFrames(`lasot/airplane/${name}/img`, ['00000001.jpg', '00000002.jpg', '00000003.jpg']);
      await put(`lasot/airplane/${name}/groundtruth.txt`, '1,2,3,4\n2,3,4,5\n0,0,0,0\n');
      await put(`lasot/airplane/${name}/full_occlusion.txt`, '0,0,1');
      await put(`lasot/airplane/${name}/out_of_view.txt`, '0,1,0');
    }
    await putFrames('lasot/cup/cup-7/img', ['00000001.jpg']);
    await put('lasot/cup/cup-7/groundtruth.txt', '1,2,3,4\n');
  });

  it('lists class-n folders in natural order and reads visibility flags', async () => {
    expect(await listLasotSequences(join(root, 'lasot'))).toEqual(['airplane-1', 'airplane-2', 'airplane-10', 'cup-7']);
    const s = await readLasotSequence(join(root, 'lasot'), 'airplane-10');
    expect(s.visible).toEqual([true, false, false]);
    expect(s.frames).toHaveLength(3);
    expect(s.frames[0]).toBe(join(root, 'lasot/airplane/airplane-10/img/00000001.jpg'));
    const cup = await readLasotSequence(join(root, 'lasot'), 'cup-7');
    expect(cup.visible).toBeUndefined();
  });

  it('reads a named subset in the given order', async () => {
    const seqs = await collect(readLasotDataset(join(root, 'lasot'), ['cup-7', 'airplane-2']));
    expect(seqs.map((s) => s.name)).toEqual(['cup-7', 'airplane-2']);
  });

  it('flag files of the wrong length are rejected', async () => {
    await putFrames('lasot/bird/bird-1/img', ['00000001.jpg']);
    await put('lasot/bird/bird-1/groundtruth.txt', '1,2,3,4\n');
    await put('lasot/bird/bird-1/full_occlusion.txt', '0,0');
    await expect(readLasotSequence(join(root, 'lasot'), 'bird-1')).rejects.toThrow(/Expected 1 flags/);
  });
});

describe('TrackingNet reader', () => {
  beforeAll(async () => {
    await putFrames('trackingnet/TRAIN_0/frames/seqA', ['0.jpg', '1.jpg', '2.jpg', '10.jpg']);
    await put('trackingnet/TRAIN_0/anno/seqA.txt', '1,2,3,4\n1,2,3,4\n1,2,3,4\n1,2,3,4\n');
    await putFrames('trackingnet/TRAIN_11/frames/seqB', ['0.jpg']);
    await put('trackingnet/TRAIN_11/anno/seqB.txt', '1,2,3,4\n');
    await putFrames('trackingnet/TRAIN_2/frames/seqC', ['0.jpg']);
    await put('trackingnet/TRAIN_2/anno/seqC.txt', '1,2,3,4\n');
    await putFrames('trackingnet/TEST/frames/seqT', ['0.jpg', '1.jpg']);
    await put('trackingnet/TEST/anno/seqT.txt', '9,9,9,9\n');
  });

  it('finds chunks in numeric order and sorts frames numerically', async () => {
    expect(await listTrackingNetChunks(join(root, 'trackingnet'))).toEqual(['TRAIN_0', 'TRAIN_2', 'TRAIN_11', 'TEST']);
    const seqs = await collect(readTrackingNetDataset(join(root, 'trackingnet')));
    expect(seqs.map((s) => s.name)).toEqual(['seqA', 'seqC', 'seqB', 'seqT']);
    expect(seqs[0]?.frames.map((f) => f.split('/').pop())).toEqual(['0.jpg', '1.jpg', '2.jpg', '10.jpg']);
    expect(seqs[3]?.groundTruth).toEqual([{ x: 9, y: 9, width: 9, height: 9 }]);
  });

  it('reads only the requested chunks', async () => {
    const seqs = await collect(readTrackingNetDataset(join(root, 'trackingnet'), ['TEST']));
    expect(seqs.map((s) => s.name)).toEqual(['seqT']);
  });
});

describe('OTB reader', () => {
  beforeAll(async () => {
    await putFrames('otb/Basketball/img', ['0001.jpg', '0002.jpg']);
    await put('otb/Basketball/groundtruth_rect.txt', '198,214,34,81\n197\t214\t34\t81\n');
    await putFrames('otb/Jogging/img', ['0001.jpg']);
    await put('otb/Jogging/groundtruth_rect.1.txt', '111 98 25 101\n');
    await put('otb/Jogging/groundtruth_rect.2.txt', '180,79,37,113\n');
    await putFrames('otb/Broken/img', ['0001.jpg']);
    await put('otb/Broken/groundtruth_rect.txt', '1,2,3,4\n1;2;3;4\n');
  });

  it('reads comma, tab and space separated ground truth', async () => {
    const s = await readOtbSequence(join(root, 'otb'), 'Basketball');
    expect(s.groundTruth).toEqual([
      { x: 198, y: 214, width: 34, height: 81 },
      { x: 197, y: 214, width: 34, height: 81 },
    ]);
    expect(s.frames).toHaveLength(2);
  });

  it('splits multi-target folders into <Seq>.<k> sequences', async () => {
    expect(await listOtbSequences(join(root, 'otb'))).toEqual(['Basketball', 'Broken', 'Jogging.1', 'Jogging.2']);
    const j2 = await readOtbSequence(join(root, 'otb'), 'Jogging.2');
    expect(j2.groundTruth).toEqual([{ x: 180, y: 79, width: 37, height: 113 }]);
    expect(j2.frames[0]).toBe(join(root, 'otb/Jogging/img/0001.jpg'));
    await expect(readOtbSequence(join(root, 'otb'), 'Jogging.3')).rejects.toThrow(IoError);
  });

  it('reports the malformed line with its file', async () => {
    await expect(readOtbSequence(join(root, 'otb'), 'Broken')).rejects.toThrow(
      `in "${join(root, 'otb/Broken/groundtruth_rect.txt')}" line 2 but received "1;2;3;4"`,
    );
  });
});

describe('result writers', () => {
  const boxes = [
    { x: 1, y: 2.5, width: 3.14159, height: 4 },
    { x: -0.5, y: 0, width: 10, height: 20.0005 },
  ];

  it('formats boxes like numpy savetxt %.3f', () => {
    expect(formatBoxLines(boxes)).toBe('1.000,2.500,3.142,4.000\n-0.500,0.000,10.000,20.000\n');
    expect(formatBoxLines(boxes, { separator: '\t', decimals: 'integer' })).toBe('1\t2\t3\t4\n0\t0\t10\t20\n');
  });

  it('GOT-10k: <seq>/<seq>_001.txt and <seq>_time.txt, readable back', async () => {
    const dir = join(root, 'results-got10k');
    const files = await writeGot10kResult(dir, { name: 'GOT-10k_Test_000001', boxes, times: [0.012, 0.5] });
    expect(files).toEqual([
      join(dir, 'GOT-10k_Test_000001/GOT-10k_Test_000001_001.txt'),
      join(dir, 'GOT-10k_Test_000001/GOT-10k_Test_000001_time.txt'),
    ]);
    expect(await readFile(files[1] as string, 'utf8')).toBe('0.01200000\n0.50000000\n');
    const back = await readBoxFile(files[0] as string);
    expect(back[0]).toEqual({ x: 1, y: 2.5, width: 3.142, height: 4 });
    const third = await writeGot10kResult(dir, { name: 'seq', boxes }, 3);
    expect(third).toEqual([join(dir, 'seq/seq_003.txt')]);
  });

  it('OTB/LaSOT, TrackingNet and pytracking layouts', async () => {
    const dir = join(root, 'results-other');
    expect(await writeOtbResult(dir, { name: 'Basketball', boxes, times: [1, 2] })).toEqual([
      join(dir, 'Basketball.txt'),
      join(dir, 'times/Basketball_time.txt'),
    ]);
    expect(await writeTrackingNetResult(join(dir, 'tn'), { name: 'seqA', boxes, times: [1, 2] })).toEqual([join(dir, 'tn/seqA.txt')]);
    const py = await writePytrackingResult(join(dir, 'py'), { name: 'a', boxes, times: [1, 2] });
    expect(await readFile(py[0] as string, 'utf8')).toBe('1\t2\t3\t4\n0\t0\t10\t20\n');
    expect(await writeResult('lasot', join(dir, 'lasot'), { name: 'cup-7', boxes })).toEqual([join(dir, 'lasot/cup-7.txt')]);
  });

  it('rejects unsafe names, non-finite boxes, mismatched times and unknown formats', async () => {
    const dir = join(root, 'results-bad');
    await expect(writeOtbResult(dir, { name: '../evil', boxes })).rejects.toThrow(InvalidArgumentError);
    await expect(writeOtbResult(dir, { name: 'a', boxes: [{ x: Number.NaN, y: 0, width: 1, height: 1 }] })).rejects.toThrow(
      new InvalidBoxError('Expected a finite x for boxes[0] of result "a" but received NaN'),
    );
    await expect(writeOtbResult(dir, { name: 'a', boxes, times: [1] })).rejects.toThrow(
      'Expected 2 times (one per box) for result "a" but received 1',
    );
    await expect(writeResult('vot' as 'otb', dir, { name: 'a', boxes })).rejects.toThrow(/received "vot"/);
    await expect(writeGot10kResult(dir, { name: 'a', boxes }, 0)).rejects.toThrow(/repetition/);
  });

  it('every layout reads back through readResult', async () => {
    const dir = join(root, 'roundtrip');
    const original = { name: 'seq-1', boxes: [{ x: 1.25, y: 2, width: 30, height: 40.5 }], times: [0.125] };
    for (const format of ['got10k', 'otb', 'lasot', 'trackingnet', 'pytracking'] as const) {
      await writeResult(format, join(dir, format), original);
      const back = await readResult(format, join(dir, format), 'seq-1');
      expect(back.name).toBe('seq-1');
      const expectedBox = format === 'pytracking' ? { x: 1, y: 2, width: 30, height: 40 } : original.boxes[0];
      expect(back.boxes).toEqual([expectedBox]);
      expect(back.times).toEqual(format === 'trackingnet' ? undefined : [0.125]);
    }
    await expect(readResult('otb', dir, '../x')).rejects.toThrow(InvalidArgumentError);
  });

  it('time files accept nan and report malformed lines', () => {
    expect(parseNumberLines('0.5\nnan\n\n0.25\n', 't.txt')).toEqual([0.5, Number.NaN, 0.25]);
    expect(() => parseNumberLines('0.5\n0.5 s\n', 't.txt')).toThrow('Expected one number per line in "t.txt" line 2 but received "0.5 s"');
  });

  it('an unwritable destination is an IoError', async () => {
    await put('a-file', 'x');
    await expect(writeOtbResult(join(root, 'a-file'), { name: 'a', boxes })).rejects.toThrow(IoError);
  });
});
