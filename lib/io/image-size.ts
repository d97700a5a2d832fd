/**
 * Image sizes read from file headers (PNG, JPEG, BMP) without decoding, so a frames folder can
 * be checked for mixed sizes before ffmpeg decodes it.
 */
import { open } from 'node:fs/promises';
import { IoError } from './errors.js';

/** Width and height of an image in pixels. */
export interface ImageSize {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngSize(bytes: Buffer): ImageSize | undefined {
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE) || bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function bmpSize(bytes: Buffer): ImageSize | undefined {
  if (bytes.length < 26 || bytes.toString('latin1', 0, 2) !== 'BM') return undefined;
  // A negative height marks a top-down bitmap; the size is its absolute value.
  return { width: bytes.readInt32LE(18), height: Math.abs(bytes.readInt32LE(22)) };
}

/** 'incomplete' means the SOF segment lies beyond the bytes given. */
function jpegSize(bytes: Buffer): ImageSize | undefined | 'incomplete' {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1] ?? 0;
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    // Markers without a length field.
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    const length = bytes.readUInt16BE(offset + 2);
    const isStartOfFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isStartOfFrame) {
      if (offset + 9 > bytes.length) return 'incomplete';
      return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // image data before any SOF
    offset += 2 + length;
  }
  return 'incomplete';
}

/**
 * Read an image's size from its header. Reads the first 4 KiB (enough for almost every file),
 * then 64 KiB, and the whole file only for a JPEG whose frame header comes later (large EXIF
 * blocks), so checking a folder of thousands of frames reads little.
 * @throws IoError when the file cannot be read or is not a PNG, JPEG or BMP image.
 */
export async function readImageSize(path: string): Promise<ImageSize> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw new IoError(`Could not open image "${path}"`, { path, cause });
  }
  try {
    let size: ImageSize | undefined | 'incomplete' = 'incomplete';
    for (const limit of [4096, 65536, Infinity]) {
      let bytes: Buffer;
      if (limit === Infinity) {
        bytes = await handle.readFile();
      } else {
        const head = Buffer.alloc(limit);
        const { bytesRead } = await handle.read(head, 0, limit, 0);
        bytes = head.subarray(0, bytesRead);
        if (bytesRead < limit) {
          size = pngSize(bytes) ?? bmpSize(bytes) ?? jpegSize(bytes);
          break; // the whole file is in hand
        }
      }
      size = pngSize(bytes) ?? bmpSize(bytes) ?? jpegSize(bytes);
      if (size !== 'incomplete') break;
    }
    if (size === undefined || size === 'incomplete' || !(size.width > 0 && size.height > 0)) {
      throw new IoError(`Expected a PNG, JPEG or BMP image in "${path}" but could not read a frame size from its header`, { path });
    }
    return size;
  } finally {
    await handle.close();
  }
}
