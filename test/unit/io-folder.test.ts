import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameSizeMismatchError, IoError, openFrameFiles, openFrameFolder, openFrames, readImageSize, sortFrameNames, encodePng } from '../../lib/io/index.js';
import type { Frame } from '../../lib/engine/types.js';

let dir: string;

function ffmpeg(...args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-y', ...args]);
}

async function collect(source: AsyncIterable<Frame>): Promise<Frame[]> {
  const frames: Frame[] = [];
  for await (const frame of source) frames.push(frame);
  return frames;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sct-folder-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sortFrameNames', () => {
  it('orders numbers naturally', () => {
    expect(sortFrameNames(['10.jpg', '2.jpg', '1.jpg', 'img0100.png', 'img011.png'])).toEqual(['1.jpg', '2.jpg', '10.jpg', 'img011.png', 'img0100.png']);
  });
});

describe('readImageSize', () => {
  it('reads PNG, JPEG and BMP headers', async () => {
    const base = join(dir, 'sizes');
    mkdirSync(base);
    for (const ext of ['png', 'jpg', 'bmp']) ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=37x21', '-frames:v', '1', join(base, `a.${ext}`));
    for (const ext of ['png', 'jpg', 'bmp']) expect(await readImageSize(join(base, `a.${ext}`))).toEqual({ width: 37, height: 21 });
  });

  it('finds the JPEG frame header behind a large EXIF-like block', async () => {
    const base = join(dir, 'exif');
    mkdirSync(base);
    const jpeg = join(base, 'plain.jpg');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=33x19', '-frames:v', '1', jpeg);
    const bytes = execFileSync('cat', [jpeg]);
    // Insert a 70 kB APP1 segment (FF E1, length ≤ 65535 each: two of them) right after SOI.
    const segment = (fill: number): Buffer => Buffer.concat([Buffer.from([0xff, 0xe1, 0x8c, 0xa2]), Buffer.alloc(0x8ca0, fill)]);
    const padded = join(base, 'padded.jpg');
    writeFileSync(padded, Buffer.concat([bytes.subarray(0, 2), segment(1), segment(2), bytes.subarray(2)]));
    expect(await readImageSize(padded)).toEqual({ width: 33, height: 19 });
  });

  it('rejects a file that is not an image', async () => {
    const file = join(dir, 'not-image.jpg');
    writeFileSync(file, 'hello');
    await expect(readImageSize(file)).rejects.toThrow(/could not read a frame size/);
  });
});

describe('openFrameFolder', () => {
  it('decodes images in natural order with correct pixels', async () => {
    const folder = join(dir, 'seq');
    mkdirSync(folder);
    // Frame i is a solid grey of level 20·i, written as PNG (lossless) under unpadded numbers.
    for (let i = 1; i <= 12; i++) {
      const level = 20 * i;
      const data = new Uint8Array(8 * 6 * 3).fill(level);
      writeFileSync(join(folder, `${i}.png`), encodePng({ data, width: 8, height: 6, format: 'rgb' }));
    }
    writeFileSync(join(folder, 'notes.txt'), 'not a frame');
    const source = await openFrameFolder(folder);
    expect(source.info).toEqual({ width: 8, height: 6, fps: undefined, frameCount: 12 });
    const frames = await collect(source);
    expect(frames.map((f) => f.data[0])).toEqual([20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220, 240]);
    expect(frames.every((f) => f.data.length === 8 * 6 * 3 && f.width === 8 && f.height === 6)).toBe(true);
    // openFrames picks the folder reader for folders, and passes the pixel format on.
    const gray = await collect(await openFrames(folder, { format: 'gray' }));
    expect(gray).toHaveLength(12);
    expect(gray.map((f) => f.data.length)).toEqual(Array(12).fill(8 * 6));
    expect(gray.map((f) => f.data[0])).toEqual([20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220, 240]);
  });

  it('decodes JPEG frames, including names with quotes', async () => {
    const folder = join(dir, "it's jpeg");
    mkdirSync(folder);
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=40x30:rate=10', '-frames:v', '7', join(folder, '%08d.jpg'));
    renameSync(join(folder, '00000003.jpg'), join(folder, "00000003'.jpg"));
    const frames = await collect(await openFrameFolder(folder));
    expect(frames).toHaveLength(7);
    expect(frames[0]!.data.length).toBe(40 * 30 * 3);
  });

  it('rejects mixed frame sizes naming the first offending file', async () => {
    const folder = join(dir, 'mixed');
    mkdirSync(folder);
    for (let i = 1; i <= 5; i++) {
      const size = i === 4 || i === 5 ? '50x30' : '40x30';
      ffmpeg('-f', 'lavfi', '-i', `testsrc=size=${size}`, '-frames:v', '1', join(folder, `${String(i).padStart(4, '0')}.jpg`));
    }
    const error = await openFrameFolder(folder).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FrameSizeMismatchError);
    expect(error).toBeInstanceOf(IoError);
    expect((error as FrameSizeMismatchError).file).toBe(join(folder, '0004.jpg'));
    expect((error as Error).message).toBe(`Expected every image of the frames folder to be 40x30 like the first one but received 50x30 in "${join(folder, '0004.jpg')}"`);
  });

  it('openFrameFiles decodes an explicit list in the given order', async () => {
    const files = [3, 1, 2].map((i) => join(dir, 'seq', `${i}.png`));
    const source = await openFrameFiles(files, 'custom');
    expect(source.path).toBe('custom');
    const frames = await collect(source);
    expect(frames.map((f) => f.data[0])).toEqual([60, 20, 40]);
    await expect(openFrameFiles([])).rejects.toThrow('Expected at least one image file');
  });

  it('rejects an empty folder and a missing folder', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await expect(openFrameFolder(empty)).rejects.toThrow(/but received none/);
    await expect(openFrameFolder(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ERR_IO' });
  });

  it('fails with a typed error when an image is corrupt past its header', async () => {
    const folder = join(dir, 'corrupt');
    mkdirSync(folder);
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=40x30:rate=10', '-frames:v', '3', join(folder, '%04d.png'));
    const good = execFileSync('cat', [join(folder, '0002.png')]);
    writeFileSync(join(folder, '0002.png'), good.subarray(0, 60)); // header intact, data cut
    const error = await collect(await openFrameFolder(folder)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IoError);
  });
});
