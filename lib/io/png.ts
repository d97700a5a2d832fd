/**
 * A minimal PNG encoder (8-bit RGB, RGBA or gray, no interlace) on node:zlib, enough for the
 * plots the `eval` command writes without a runtime dependency.
 */
import { deflateSync } from 'node:zlib';
import { InvalidFrameError } from '../errors.js';
import type { Frame } from '../engine/types.js';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (the PNG/zlib polynomial) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

/**
 * Encode a frame as a PNG file. 'bgr' frames are written as RGB.
 * @throws InvalidFrameError when the buffer is smaller than the frame needs.
 */
export function encodePng(frame: Frame): Buffer {
  const channels = frame.format === 'rgba' ? 4 : frame.format === 'gray' ? 1 : 3;
  const colorType = frame.format === 'rgba' ? 6 : frame.format === 'gray' ? 0 : 2;
  const rowBytes = frame.width * channels;
  const stride = frame.stride ?? rowBytes;
  if (!(frame.width > 0 && frame.height > 0) || frame.data.length < stride * (frame.height - 1) + rowBytes) {
    throw new InvalidFrameError(`Expected at least ${stride * (frame.height - 1) + rowBytes} bytes for a ${frame.width}x${frame.height} ${frame.format} frame but received ${frame.data.length}`);
  }
  // Each row starts with its filter type; 0 (none) keeps this simple, deflate does the rest.
  const raw = Buffer.alloc((rowBytes + 1) * frame.height);
  for (let y = 0; y < frame.height; y++) {
    const row = frame.data.subarray(y * stride, y * stride + rowBytes);
    const at = y * (rowBytes + 1) + 1;
    if (frame.format === 'bgr') {
      for (let x = 0; x < rowBytes; x += 3) {
        raw[at + x] = row[x + 2] as number;
        raw[at + x + 1] = row[x + 1] as number;
        raw[at + x + 2] = row[x] as number;
      }
    } else {
      raw.set(row, at);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(frame.width, 0);
  header.writeUInt32BE(frame.height, 4);
  header[8] = 8; // bit depth
  header[9] = colorType;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
