/**
 * Reading and strictly validating the header of a `.safetensors` file (8-byte little-endian
 * header length, JSON header, raw tensor bytes) without loading any tensor data.
 */
import { open } from 'node:fs/promises';
import { ModelLoadError } from '../errors.js';

/** Bytes per element of each safetensors dtype. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

/** One tensor's entry in the header. */
export interface SafetensorsTensorInfo {
  /** Tensor name, e.g. "encoder.blocks.0.attn.qkv.weight". */
  name: string;
  /** Element type, e.g. "F32". */
  dtype: string;
  /** Shape (empty for a scalar). */
  shape: number[];
  /** Byte range [begin, end) inside the data section. */
  dataOffsets: [number, number];
}

/** A validated safetensors header. */
export interface SafetensorsHeader {
  /** Size of the whole file in bytes. */
  fileSize: number;
  /** Length of the JSON header in bytes. */
  headerByteLength: number;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
  /** Tensors in data order. */
  tensors: SafetensorsTensorInfo[];
}

/** Largest header accepted (the safetensors reference implementation's limit). */
const MAX_HEADER_BYTES = 100_000_000;

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/**
 * Validate a header's JSON text against the data section size. Exported for tests; use
 * {@link readSafetensorsHeader} for files.
 * @throws ModelLoadError naming `file` and what is wrong.
 */
export function parseSafetensorsHeader(file: string, headerText: string, headerByteLength: number, fileSize: number): SafetensorsHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(headerText);
  } catch {
    throw new ModelLoadError(file, 'the safetensors header is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ModelLoadError(file, 'the safetensors header is not a JSON object');
  }
  const metadata: Record<string, string> = {};
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ModelLoadError(file, '__metadata__ is not an object');
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') throw new ModelLoadError(file, `metadata value "${key}" is not a string`);
        metadata[key] = value;
      }
      continue;
    }
    if (typeof entry !== 'object' || entry === null) throw new ModelLoadError(file, `tensor "${name}" has no header entry object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    const elementBytes = typeof dtype === 'string' ? SAFETENSORS_DTYPE_BYTES[dtype] : undefined;
    if (typeof dtype !== 'string' || elementBytes === undefined) throw new ModelLoadError(file, `tensor "${name}" has unknown dtype ${JSON.stringify(dtype)}`);
    if (!isShape(shape)) throw new ModelLoadError(file, `tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new ModelLoadError(file, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const expectedBytes = shape.reduce((a, b) => a * b, 1) * elementBytes;
    if (end - begin !== expectedBytes) {
      throw new ModelLoadError(file, `tensor "${name}" spans ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expectedBytes}`);
    }
    tensors.push({ name, dtype, shape, dataOffsets: [begin, end] });
  }
  // The format requires the tensors to tile the data section exactly: no gaps, no overlaps.
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let cursor = 0;
  for (const tensor of tensors) {
    if (tensor.dataOffsets[0] !== cursor) {
      throw new ModelLoadError(file, `tensor "${tensor.name}" starts at byte ${tensor.dataOffsets[0]} of the data but the previous tensor ends at ${cursor} (gap or overlap)`);
    }
    cursor = tensor.dataOffsets[1];
  }
  const dataBytes = fileSize - 8 - headerByteLength;
  if (cursor !== dataBytes) {
    throw new ModelLoadError(file, `the tensors cover ${cursor} bytes but the file holds ${dataBytes} bytes of data (truncated or padded file)`);
  }
  return { fileSize, headerByteLength, metadata, tensors };
}

/**
 * Read and validate the header of a safetensors file.
 * @throws ModelLoadError when the file is missing, too short, or its header is malformed or
 *   does not match the file size.
 */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ModelLoadError(file, code === 'ENOENT' ? 'the file does not exist' : `the file cannot be opened (${code ?? String(cause)})`, { cause });
  }
  try {
    const { size: fileSize } = await handle.stat();
    if (fileSize < 8) throw new ModelLoadError(file, `the file is ${fileSize} bytes long, too short for a safetensors header`);
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const headerLength = lengthBytes.readBigUInt64LE(0);
    if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, fileSize - 8))) {
      throw new ModelLoadError(file, `header length ${headerLength} exceeds the file size ${fileSize} or the ${MAX_HEADER_BYTES}-byte limit`);
    }
    const headerByteLength = Number(headerLength);
    const headerBytes = Buffer.alloc(headerByteLength);
    await handle.read(headerBytes, 0, headerByteLength, 8);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
    } catch {
      throw new ModelLoadError(file, 'the safetensors header is not valid UTF-8');
    }
    return parseSafetensorsHeader(file, text, headerByteLength, fileSize);
  } finally {
    await handle.close();
  }
}
