import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelLoadError, InvalidFrameError } from '../../lib/errors.js';
import { crc32, drawBox, drawText, encodePng, frameFromMat, describeTraining, readSafetensorsHeader, summarizeModelFile, type MatLike } from '../../lib/io/index.js';
import type { Frame } from '../../lib/engine/types.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sct-formats-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function decodeWithFfmpeg(png: Buffer, pixFmt: string): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-f', 'png_pipe', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', pixFmt, 'pipe:1'], { input: png });
}

function blank(width: number, height: number, format: Frame['format'] = 'rgb', value = 0): Frame {
  const channels = format === 'gray' ? 1 : format === 'rgba' ? 4 : 3;
  return { data: new Uint8Array(width * height * channels).fill(value), width, height, format };
}

describe('encodePng', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it.each([
    ['rgb', 'rgb24', 3],
    ['rgba', 'rgba', 4],
    ['gray', 'gray', 1],
  ] as const)('%s frames decode back to the same bytes with ffmpeg', (format, pixFmt, channels) => {
    const width = 13;
    const height = 7;
    const data = new Uint8Array(width * height * channels);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) % 256;
    const decoded = decodeWithFfmpeg(encodePng({ data, width, height, format }), pixFmt);
    expect(Buffer.compare(decoded, Buffer.from(data))).toBe(0);
  });

  it('writes bgr frames as RGB and honours the stride', () => {
    const stride = 3 * 2 + 4;
    const data = new Uint8Array(stride * 2);
    data.set([1, 2, 3, 4, 5, 6], 0);
    data.set([7, 8, 9, 10, 11, 12], stride);
    const decoded = decodeWithFfmpeg(encodePng({ data, width: 2, height: 2, format: 'bgr', stride }), 'rgb24');
    expect(Array.from(decoded)).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
  });

  it('rejects a buffer smaller than the frame', () => {
    expect(() => encodePng({ data: new Uint8Array(5), width: 2, height: 2, format: 'rgb' })).toThrow(InvalidFrameError);
  });
});

describe('drawBox', () => {
  function pixel(frame: Frame, x: number, y: number): number[] {
    const channels = frame.format === 'gray' ? 1 : frame.format === 'rgba' ? 4 : 3;
    const stride = frame.stride ?? frame.width * channels;
    return Array.from(frame.data.subarray(y * stride + x * channels, y * stride + x * channels + channels));
  }

  it('draws exactly the outline pixels with the given thickness', () => {
    const frame = blank(20, 16);
    drawBox(frame, { x: 2.4, y: 3, width: 10, height: 8 }, { thickness: 2, color: [10, 20, 30] });
    // Outline spans x 2..11 and y 3..10; 2 px inward.
    let painted = 0;
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 20; x++) {
        const inside = x >= 2 && x <= 11 && y >= 3 && y <= 10;
        const interior = x >= 4 && x <= 9 && y >= 5 && y <= 8;
        const expected = inside && !interior ? [10, 20, 30] : [0, 0, 0];
        expect(pixel(frame, x, y)).toEqual(expected);
        if (inside && !interior) painted++;
      }
    }
    expect(painted).toBe(10 * 8 - 6 * 4);
  });

  it('clips a box that leaves the frame and ignores one entirely outside', () => {
    const frame = blank(10, 10);
    drawBox(frame, { x: -5, y: -5, width: 10, height: 10 }, { thickness: 1 });
    expect(pixel(frame, 2, 0)).toEqual([0, 0, 0]); // the top and left edges are off-frame
    expect(pixel(frame, 4, 2)).toEqual([255, 0, 0]); // the right edge at x = 4
    expect(pixel(frame, 2, 4)).toEqual([255, 0, 0]); // the bottom edge at y = 4
    const untouched = blank(10, 10);
    drawBox(untouched, { x: 50, y: 50, width: 5, height: 5 });
    expect(untouched.data.every((v) => v === 0)).toBe(true);
  });

  it('writes colours in the frame format: bgr swaps, gray uses luma, rgba sets alpha', () => {
    const bgr = blank(4, 4, 'bgr');
    drawBox(bgr, { x: 0, y: 0, width: 4, height: 4 }, { thickness: 1, color: [200, 100, 50] });
    expect(pixel(bgr, 0, 0)).toEqual([50, 100, 200]);
    const gray = blank(4, 4, 'gray');
    drawBox(gray, { x: 0, y: 0, width: 4, height: 4 }, { thickness: 1, color: [255, 0, 0] });
    expect(pixel(gray, 0, 0)).toEqual([76]);
    const rgba = blank(4, 4, 'rgba');
    drawBox(rgba, { x: 0, y: 0, width: 4, height: 4 }, { thickness: 1, color: [1, 2, 3] });
    expect(pixel(rgba, 0, 0)).toEqual([1, 2, 3, 255]);
  });

  it('rejects bad thickness, colour and non-finite boxes with typed errors', () => {
    const frame = blank(4, 4);
    expect(() => drawBox(frame, { x: 0, y: 0, width: 2, height: 2 }, { thickness: 0 })).toThrow('Expected a positive integer thickness but received 0');
    expect(() => drawBox(frame, { x: 0, y: 0, width: 2, height: 2 }, { color: [0, 0, 300] })).toThrow(/colour/);
    expect(() => drawBox(frame, { x: NaN, y: 0, width: 2, height: 2 })).toThrow('Expected a finite x for box but received NaN');
  });

  it('draws a label with the bitmap font', () => {
    const frame = blank(40, 40);
    drawBox(frame, { x: 2, y: 20, width: 30, height: 15 }, { label: '0.87' });
    // Text lies above the box (rows 8..17), so some pixel there is red.
    let red = 0;
    for (let y = 8; y < 18; y++) for (let x = 0; x < 40; x++) if (pixel(frame, x, y)[0] === 255) red++;
    expect(red).toBeGreaterThan(10);
  });

  it('drawText renders distinct glyphs', () => {
    const a = blank(8, 8);
    const b = blank(8, 8);
    drawText(a, '1', 0, 0, [255, 255, 255]);
    drawText(b, '7', 0, 0, [255, 255, 255]);
    expect(Buffer.compare(Buffer.from(a.data), Buffer.from(b.data))).not.toBe(0);
    // "1": rows 010 / 110 / 010 / 010 / 111.
    const lit = (x: number, y: number): boolean => a.data[(y * 8 + x) * 3] === 255;
    expect([lit(0, 0), lit(1, 0), lit(2, 0)]).toEqual([false, true, false]);
    expect([lit(0, 4), lit(1, 4), lit(2, 4)]).toEqual([true, true, true]);
  });
});

describe('frameFromMat', () => {
  function mat(partial: Partial<MatLike> & { data: Uint8Array }): MatLike {
    return { rows: 2, cols: 3, channels: 3, depth: 0, getData: () => partial.data, ...partial };
  }

  it('wraps a 3-channel 8-bit Mat as a bgr frame without copying', () => {
    const data = new Uint8Array(2 * 3 * 3).map((_, i) => i);
    const frame = frameFromMat(mat({ data }));
    expect(frame).toMatchObject({ width: 3, height: 2, format: 'bgr' });
    expect(frame.data).toBe(data);
  });

  it('wraps a 1-channel Mat as gray', () => {
    expect(frameFromMat(mat({ channels: 1, data: new Uint8Array(6) })).format).toBe('gray');
  });

  it('rejects other depths, channel counts and sizes', () => {
    expect(() => frameFromMat(mat({ depth: 5, data: new Uint8Array(18) }))).toThrow('Expected an 8-bit Mat (depth CV_8U = 0) but received depth 5');
    expect(() => frameFromMat(mat({ channels: 4, data: new Uint8Array(24) }))).toThrow(/cvtColor/);
    expect(() => frameFromMat(mat({ data: new Uint8Array(17) }))).toThrow('Expected 18 bytes from a 3x2 Mat with 3 channels but received 17');
  });
});

describe('safetensors header', () => {
  interface TensorSpec {
    dtype: string;
    shape: number[];
    bytes: number;
  }
  function build(tensors: Record<string, TensorSpec>, metadata?: Record<string, unknown>, options: { padHeader?: number; extraData?: number; offsets?: Record<string, [number, number]> } = {}): Buffer {
    const header: Record<string, unknown> = {};
    if (metadata) header.__metadata__ = metadata;
    let cursor = 0;
    for (const [name, t] of Object.entries(tensors)) {
      header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: options.offsets?.[name] ?? [cursor, cursor + t.bytes] };
      cursor += t.bytes;
    }
    const json = Buffer.from(JSON.stringify(header) + ' '.repeat(options.padHeader ?? 0));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([length, json, Buffer.alloc(cursor + (options.extraData ?? 0))]);
  }
  function file(name: string, bytes: Buffer): string {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  }
  const good = { 'a.weight': { dtype: 'F32', shape: [2, 3], bytes: 24 }, 'b.bias': { dtype: 'BF16', shape: [5], bytes: 10 }, step: { dtype: 'I64', shape: [], bytes: 8 } };

  it('reads tensors and metadata of a valid file (header padded with spaces)', async () => {
    const path = file('good.safetensors', build(good, { format: 'sct-diff', format_version: '1', config: JSON.stringify({ name: 'tiny' }) }, { padHeader: 5 }));
    const header = await readSafetensorsHeader(path);
    expect(header.metadata.format).toBe('sct-diff');
    expect(header.tensors.map((t) => [t.name, t.dtype, t.shape, t.dataOffsets])).toEqual([
      ['a.weight', 'F32', [2, 3], [0, 24]],
      ['b.bias', 'BF16', [5], [24, 34]],
      ['step', 'I64', [], [34, 42]],
    ]);
    const summary = await summarizeModelFile(path);
    expect(summary).toMatchObject({ configName: 'tiny', format: 'sct-diff', formatVersion: '1', tensorCount: 3, parameterCount: 12, parametersByDtype: { F32: 6, BF16: 5, I64: 1 } });
    expect(summary.fileSize).toBe(header.fileSize);
    expect(summary.training).toBeUndefined();
    expect(describeTraining(summary.training)).toEqual([]);
  });

  it('reads the training record training/export.py writes and describes it one stage per line', async () => {
    const training = {
      stages: [
        { checkpoint_step: 1500, samples_seen: 48000, run: { stage: 1, batch_size: 32 } },
        { checkpoint_step: 400, samples_seen: 3200, run: { stage: 2, batch_size: 8 } },
      ],
    };
    const path = file('trained.safetensors', build(good, { format: 'sct-diff', format_version: '1', training: JSON.stringify(training) }));
    const summary = await summarizeModelFile(path);
    expect(summary.training).toEqual(training);
    expect(describeTraining(summary.training)).toEqual(['stage 1: 1,500 steps, 48,000 samples', 'stage 2: 400 steps, 3,200 samples']);
    expect(describeTraining({ random_init_seed: 0 })).toEqual(['untrained: random weights (seed 0)']);
    expect(describeTraining({ stages: [{}] })).toEqual(['stage ?: ? steps, ? samples']);
    const broken = file('broken.safetensors', build(good, { format: 'sct-diff', format_version: '1', training: '{not json' }));
    expect((await summarizeModelFile(broken)).training).toBeUndefined();
  });

  it.each([
    ['a missing file', null, 'the file does not exist'],
    ['a file shorter than 8 bytes', Buffer.from([1, 2, 3]), 'too short for a safetensors header'],
    ['a header length past the end', (() => { const b = Buffer.alloc(16); b.writeBigUInt64LE(1000n); return b; })(), 'header length 1000 exceeds the file size 16'],
    ['a header that is not JSON', (() => { const j = Buffer.from('{nope'); const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(j.length)); return Buffer.concat([b, j]); })(), 'not valid JSON'],
    ['a header that is a JSON array', (() => { const j = Buffer.from('[]'); const b = Buffer.alloc(8); b.writeBigUInt64LE(2n); return Buffer.concat([b, j]); })(), 'not a JSON object'],
    ['an unknown dtype', build({ x: { dtype: 'F12', shape: [1], bytes: 4 } }), 'tensor "x" has unknown dtype "F12"'],
    ['a byte span that does not match the shape', build({ x: { dtype: 'F32', shape: [3], bytes: 8 } }), 'tensor "x" spans 8 bytes but F32 [3] needs 12'],
    ['a negative dimension', build({ x: { dtype: 'F32', shape: [-1], bytes: 4 } }), 'invalid shape [-1]'],
    ['overlapping tensors', build({ x: { dtype: 'F32', shape: [2], bytes: 8 }, y: { dtype: 'F32', shape: [2], bytes: 8 } }, undefined, { offsets: { y: [4, 12] } }), 'gap or overlap'],
    ['trailing data after the tensors', build(good, undefined, { extraData: 3 }), 'the tensors cover 42 bytes but the file holds 45 bytes'],
    ['truncated data', build(good).subarray(0, build(good).length - 1), 'the tensors cover 42 bytes but the file holds 41 bytes'],
    ['a non-string metadata value', build(good, { format_version: 1 }), 'metadata value "format_version" is not a string'],
  ])('rejects %s with a ModelLoadError', async (name, bytes, reason) => {
    const path = bytes === null ? join(dir, 'absent.safetensors') : file(`${name.replace(/\W+/g, '-')}.safetensors`, bytes);
    const error = await readSafetensorsHeader(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as ModelLoadError).code).toBe('ERR_MODEL_LOAD');
    expect((error as Error).message).toContain(`Could not load model "${path}": `);
    expect((error as Error).message).toContain(reason);
  });

  it('rejects a header that is not UTF-8', async () => {
    const json = Buffer.from([0x7b, 0xff, 0x7d]);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(3n);
    await expect(readSafetensorsHeader(file('latin.safetensors', Buffer.concat([length, json])))).rejects.toThrow('not valid UTF-8');
  });
});
