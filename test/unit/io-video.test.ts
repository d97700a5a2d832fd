import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoError, openVideo, probeVideo, VideoWriter, openFrames } from '../../lib/io/index.js';
import type { Frame } from '../../lib/engine/types.js';
import { InvalidFrameError } from '../../lib/errors.js';

let dir: string;
let testsrc: string;
let long: string;

function ffmpeg(...args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-y', ...args]);
}

function childCount(): number {
  // ffmpeg children of this process still alive (to prove early stops kill them).
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]).toString();
  return out.split('\n').filter((line) => line.includes('ffmpeg')).length;
}

async function collect(source: AsyncIterable<Frame>): Promise<Frame[]> {
  const frames: Frame[] = [];
  for await (const frame of source) frames.push(frame);
  return frames;
}

function meanColor(frame: Frame, x0: number, y0: number, x1: number, y1: number): [number, number, number] {
  const sum = [0, 0, 0];
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++) sum[c]! += frame.data[(y * frame.width + x) * 3 + c]!;
  const n = (x1 - x0) * (y1 - y0);
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sct-io-'));
  testsrc = join(dir, 'testsrc.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-frames:v', '15', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', testsrc);
  long = join(dir, 'long.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30', '-frames:v', '600', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', long);
}, 120_000); // generating test media takes a while on a loaded machine
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openVideo', () => {
  it('probes size, fps and frame count', async () => {
    const meta = await probeVideo(testsrc);
    expect(meta).toMatchObject({ width: 64, height: 48, rotation: 0, fps: 10, frameCount: 15, codec: 'h264' });
  });

  it('decodes every frame as a fresh rgb buffer of the right size', async () => {
    const video = await openVideo(testsrc);
    expect(video.info).toEqual({ width: 64, height: 48, fps: 10, frameCount: 15 });
    const frames = await collect(video);
    expect(frames).toHaveLength(15);
    for (const frame of frames) {
      expect(frame).toMatchObject({ width: 64, height: 48, format: 'rgb' });
      expect(frame.data.length).toBe(64 * 48 * 3);
    }
    // Buffers are not reused: different frames of testsrc differ (its counter changes).
    expect(Buffer.compare(Buffer.from(frames[0]!.data), Buffer.from(frames[14]!.data))).not.toBe(0);
  });

  it('matches pixels decoded by ffmpeg directly', async () => {
    const reference = execFileSync('ffmpeg', ['-v', 'error', '-i', testsrc, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
    const frames = await collect(await openVideo(testsrc));
    expect(Buffer.concat(frames.map((f) => f.data))).toEqual(reference);
  });

  it('reads exact colours of a solid-colour video', async () => {
    const solid = join(dir, 'solid.mkv');
    // Lossless so the colour survives: ffv1 in matroska.
    ffmpeg('-f', 'lavfi', '-i', 'color=c=0x3366cc:size=32x16:rate=5,format=rgb24', '-frames:v', '3', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', solid);
    const frames = await collect(await openVideo(solid));
    expect(frames).toHaveLength(3);
    expect(Array.from(frames[2]!.data.subarray(0, 6))).toEqual([0x33, 0x66, 0xcc, 0x33, 0x66, 0xcc]);
    // Other layouts on request: bgr (OpenCV's order), rgba, and gray (one byte per pixel).
    const bgr = await collect(await openVideo(solid, { format: 'bgr' }));
    expect(bgr[0]).toMatchObject({ format: 'bgr', width: 32, height: 16 });
    expect(Array.from(bgr[0]!.data.subarray(0, 3))).toEqual([0xcc, 0x66, 0x33]);
    const rgba = await collect(await openVideo(solid, { format: 'rgba' }));
    expect(Array.from(rgba[0]!.data.subarray(0, 4))).toEqual([0x33, 0x66, 0xcc, 0xff]);
    const gray = await collect(await openVideo(solid, { format: 'gray' }));
    expect(gray[0]!.data.length).toBe(32 * 16);
    expect(Math.abs(gray[0]!.data[0]! - Math.round(0.299 * 0x33 + 0.587 * 0x66 + 0.114 * 0xcc))).toBeLessThan(8);
    await expect(openVideo(solid, { format: 'yuv' as never })).rejects.toThrow("Expected format 'rgb', 'bgr', 'rgba' or 'gray' but received \"yuv\"");
  });

  it('reports and decodes rotated videos upright (phone videos)', async () => {
    const rotated = join(dir, 'rotated.mp4');
    ffmpeg('-i', testsrc, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated);
    const video = await openVideo(rotated);
    expect(video.metadata).toMatchObject({ width: 48, height: 64, rotation: 90 });
    const frames = await collect(video);
    expect(frames).toHaveLength(15);
    expect(frames[0]).toMatchObject({ width: 48, height: 64 });
    // The same pixels ffmpeg produces for the upright picture.
    const reference = execFileSync('ffmpeg', ['-v', 'error', '-i', rotated, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
    expect(Buffer.compare(Buffer.from(frames[0]!.data), reference)).toBe(0);
  });

  it('stops ffmpeg when the consumer breaks out early', async () => {
    const video = await openVideo(long);
    let seen = 0;
    for await (const _frame of video) {
      if (++seen === 3) {
        expect(childCount()).toBe(1);
        break;
      }
    }
    expect(seen).toBe(3);
    expect(childCount()).toBe(0);
  });

  it('pauses ffmpeg while the consumer is slow (back-pressure)', async () => {
    const video = await openVideo(long);
    const iterator = video[Symbol.asyncIterator]();
    await iterator.next();
    const rssBefore = process.memoryUsage().rss;
    // ffmpeg decodes all 600 frames (138 MB) well within this time if nothing holds it back.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const growth = process.memoryUsage().rss - rssBefore;
    let count = 1;
    while (!(await iterator.next()).done) count++;
    expect(count).toBe(600);
    expect(growth).toBeLessThan(40e6); // the pipe's and stream's buffers, not the decoded video
  });

  it('rejects a missing file with an IoError', async () => {
    await expect(openVideo(join(dir, 'nope.mp4'))).rejects.toMatchObject({ code: 'ERR_IO', message: expect.stringContaining('no such file') });
  });

  it('rejects a file that is not a video with ffprobe output in the message', async () => {
    const text = join(dir, 'text.mp4');
    writeFileSync(text, 'this is not a video');
    const error = await openVideo(text).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IoError);
    expect((error as IoError).stderrTail).toMatch(/Invalid data|moov|could not find/i);
  });

  it('fails with a typed error on a truncated video', async () => {
    const faststart = join(dir, 'faststart.mp4');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-frames:v', '30', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-movflags', '+faststart', faststart);
    const bytes = readFileSync(faststart);
    const truncated = join(dir, 'truncated.mp4');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    let error: unknown;
    let decoded = 0;
    try {
      // The header is intact, so opening works; decoding must then fail rather than stop short silently.
      for await (const _frame of await openVideo(truncated)) decoded++;
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IoError);
    expect((error as IoError).code).toBe('ERR_IO');
    expect((error as IoError).message).toMatch(/truncated or corrupt/);
    expect((error as IoError).stderrTail).toBeTruthy();
    expect(decoded).toBeLessThan(30);
    expect(childCount()).toBe(0);
  });

  it('fails with a typed error when the moov atom is cut off', async () => {
    const bytes = readFileSync(testsrc);
    const cut = join(dir, 'cut.mp4');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 200));
    await expect(openVideo(cut)).rejects.toBeInstanceOf(IoError);
  });

  it('openFrames picks the video reader for files', async () => {
    const source = await openFrames(testsrc);
    expect(source.info.frameCount).toBe(15);
  });
});

describe('VideoWriter', () => {
  function solidFrame(width: number, height: number, rgb: [number, number, number]): Frame {
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
    return { data, width, height, format: 'rgb' };
  }

  it('round-trips frames: count, size and approximate colours', async () => {
    const out = join(dir, 'roundtrip.mp4');
    const writer = await VideoWriter.open(out, { width: 64, height: 48, fps: 12 });
    const colors: Array<[number, number, number]> = [[200, 30, 30], [30, 200, 30], [30, 30, 200]];
    for (let i = 0; i < 9; i++) await writer.write(solidFrame(64, 48, colors[i % 3]!));
    expect(writer.framesWritten).toBe(9);
    await writer.close();
    const video = await openVideo(out);
    expect(video.metadata).toMatchObject({ width: 64, height: 48, fps: 12, frameCount: 9 });
    const frames = await collect(video);
    expect(frames).toHaveLength(9);
    frames.forEach((frame, i) => {
      const mean = meanColor(frame, 8, 8, 56, 40);
      const expected = colors[i % 3]!;
      for (let c = 0; c < 3; c++) expect(Math.abs(mean[c]! - expected[c]!)).toBeLessThan(12);
    });
    expect(readdirSync(dir).filter((name) => name.includes('.partial'))).toEqual([]);
  });

  it('pads odd sizes, accepts bgr and strided frames, and encodes with mpeg4', async () => {
    const out = join(dir, 'odd.avi');
    const writer = await VideoWriter.open(out, { width: 31, height: 17, format: 'bgr', codec: 'mpeg4', fps: 5 });
    const stride = 31 * 3 + 5;
    const data = new Uint8Array(stride * 17);
    for (let y = 0; y < 17; y++) for (let x = 0; x < 31; x++) data.set([250, 20, 20], y * stride + x * 3); // blue in BGR
    for (let i = 0; i < 4; i++) await writer.write({ data, width: 31, height: 17, format: 'bgr', stride });
    await writer.close();
    const frames = await collect(await openVideo(out));
    expect(frames).toHaveLength(4);
    expect(frames[0]).toMatchObject({ width: 32, height: 18 });
    const mean = meanColor(frames[0]!, 4, 4, 26, 12);
    expect(mean[2]).toBeGreaterThan(200);
    expect(mean[0]).toBeLessThan(60);
  });

  it('leaves no file behind when the folder is not writable', async () => {
    await expect(VideoWriter.open(join(dir, 'missing-folder', 'x.mp4'), { width: 8, height: 8 })).rejects.toMatchObject({ code: 'ERR_IO' });
    expect(existsSync(join(dir, 'missing-folder'))).toBe(false);
  });

  it('deletes the partial file when a write fails mid-stream', async () => {
    const out = join(dir, 'midstream.mp4');
    const writer = await VideoWriter.open(out, { width: 64, height: 48 });
    // Enough frames to get past the encoder's look-ahead, so ffmpeg has created its output.
    for (let i = 0; i < 80; i++) await writer.write(solidFrame(64, 48, [10, 20, 30]));
    const partialName = (): string[] => readdirSync(dir).filter((name) => name.startsWith('.midstream.mp4.'));
    for (let wait = 0; wait < 50 && partialName().length === 0; wait++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(partialName()).toHaveLength(1); // encoding goes to a hidden temporary name
    expect(existsSync(out)).toBe(false);
    await expect(writer.write(solidFrame(32, 48, [10, 20, 30]))).rejects.toBeInstanceOf(InvalidFrameError);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.startsWith('.midstream.mp4.'))).toEqual([]);
    await expect(writer.write(solidFrame(64, 48, [10, 20, 30]))).rejects.toMatchObject({ code: 'ERR_IO' });
    await expect(writer.close()).rejects.toMatchObject({ code: 'ERR_IO' });
    expect(childCount()).toBe(0);
  });

  it('abort() removes the partial file and never creates the output', async () => {
    const out = join(dir, 'aborted.mp4');
    const writer = await VideoWriter.open(out, { width: 16, height: 16 });
    await writer.write(solidFrame(16, 16, [1, 2, 3]));
    await writer.abort();
    await writer.abort();
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.startsWith('.aborted.mp4.'))).toEqual([]);
  });

  it('await using discards a writer that was not closed, and keeps one that was', async () => {
    const discarded = join(dir, 'discarded.mp4');
    {
      await using writer = await VideoWriter.open(discarded, { width: 16, height: 16 });
      await writer.write(solidFrame(16, 16, [1, 2, 3]));
    }
    expect(existsSync(discarded)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.startsWith('.discarded.mp4.'))).toEqual([]);
    const kept = join(dir, 'kept.mp4');
    {
      await using writer = await VideoWriter.open(kept, { width: 16, height: 16 });
      await writer.write(solidFrame(16, 16, [1, 2, 3]));
      await writer.close();
    }
    expect(existsSync(kept)).toBe(true);
  });

  it('closing with zero frames fails and leaves nothing', async () => {
    const out = join(dir, 'empty.mp4');
    const writer = await VideoWriter.open(out, { width: 16, height: 16 });
    const error = await writer.close().catch((e: unknown) => e);
    // ffmpeg either refuses an empty stream (IoError) or writes a valid empty file; never a partial one.
    if (error !== undefined) {
      expect(error).toBeInstanceOf(IoError);
      expect(existsSync(out)).toBe(false);
    }
    expect(readdirSync(dir).filter((name) => name.startsWith('.empty.mp4.'))).toEqual([]);
  });

  it('rejects unknown extensions and bad sizes with typed errors', async () => {
    await expect(VideoWriter.open(join(dir, 'x.gif'), { width: 8, height: 8 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(VideoWriter.open(join(dir, 'x.mp4'), { width: -3, height: 8 })).rejects.toThrow('Expected a positive integer width for the video writer but received -3');
  });
});
