/**
 * The native weight loader never trusts a file: each kind of damage gives a typed
 * ModelLoadError naming the file, saying what is wrong and what to try. Bad files are made
 * from a valid in-memory "nano" model (test/fixtures/weights/nano-weights.ts).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectModel, NativeEngine, readModelTensor } from '../../lib/engine/native.js';
import { InvalidArgumentError, ModelLoadError } from '../../lib/errors.js';
import {
  contractTensors,
  headerText,
  NANO_CONFIG,
  nanoParts,
  serialize,
  weightsFolder,
  type WeightParts,
} from '../fixtures/weights/nano-weights.js';

const folder = weightsFolder();
afterAll(() => folder.cleanup());

let fileCounter = 0;
function writeFile(bytes: Uint8Array): string {
  fileCounter += 1;
  return folder.write(`model-${fileCounter}.safetensors`, bytes);
}

/** Loads `bytes` from a file and returns the ModelLoadError it must raise. */
function loadError(bytes: Uint8Array): { error: ModelLoadError; file: string } {
  const file = writeFile(bytes);
  try {
    inspectModel(file);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelLoadError);
    const typed = error as ModelLoadError;
    expect(typed.code).toBe('ERR_MODEL_LOAD');
    expect(typed.file).toBe(file);
    expect(typed.message.startsWith(`Could not load model "${file}": `)).toBe(true);
    return { error: typed, file };
  }
  throw new Error(`expected ${file} to be rejected`);
}

function edited(edit: (parts: WeightParts) => void): Buffer {
  const parts = nanoParts();
  edit(parts);
  return serialize(parts);
}

function entry(parts: WeightParts, name: string) {
  const found = parts.tensors.get(name);
  if (!found) throw new Error(`fixture has no ${name}`);
  return found;
}

describe('valid weight files', () => {
  it.each(['F32', 'F16', 'BF16'] as const)('accepts a complete %s nano model and reports its config', (dtype) => {
    const file = writeFile(serialize(nanoParts({ dtype })));
    const info = inspectModel(file);
    const specs = contractTensors(NANO_CONFIG);
    expect(info.tensorCount).toBe(specs.length);
    expect(info.parameterCount).toBe(specs.reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0));
    expect(info.dtypes).toEqual({ [dtype]: specs.length });
    expect(info.metadata.format).toBe('sct-diff');
    expect(info.model).toMatchObject({
      name: 'nano',
      searchSize: 16,
      templateSize: 8,
      searchFactor: 4,
      templateFactor: 2,
      clipLength: 2,
      bins: 4,
      diffusionSteps: 10,
      tNew: 9,
      tRefine: 5,
      vocab: 10,
    });
  });

  it('accepts tensors stored in any order with gaps between them', () => {
    const parts = nanoParts();
    const reversed = new Map([...parts.tensors].reverse());
    const gap = 64;
    const data = new Uint8Array(parts.data.length + gap * reversed.size);
    let offset = 0;
    for (const tensor of reversed.values()) {
      const [begin, end] = tensor.data_offsets;
      offset += gap;
      data.set(parts.data.subarray(begin, end), offset);
      tensor.data_offsets = [offset, offset + (end - begin)];
      offset += end - begin;
    }
    expect(inspectModel(writeFile(serialize({ ...parts, tensors: reversed, data }))).tensorCount).toBe(reversed.size);
  });
});

describe('tensor values', () => {
  /** nano file of `dtype` whose encoder.norm.weight (8 elements) holds the given raw 16-bit patterns. */
  function withRawHalves(dtype: 'F16' | 'BF16', bits: number[]): string {
    const parts = nanoParts({ dtype });
    const [begin] = entry(parts, 'encoder.norm.weight').data_offsets;
    const view = new DataView(parts.data.buffer);
    bits.forEach((value, i) => view.setUint16(begin + 2 * i, value, true));
    return writeFile(serialize(parts));
  }

  it.each(['F32', 'F16', 'BF16'] as const)('reads %s tensors as the values written', (dtype) => {
    const file = writeFile(serialize(nanoParts({ dtype })));
    const parts = nanoParts({ dtype });
    const size = dtype === 'F32' ? 4 : 2;
    for (const name of ['encoder.patch_embed.weight', 'decoder.norm_f.weight']) {
      const values = readModelTensor(file, name);
      const [begin, end] = entry(parts, name).data_offsets;
      expect(values.length).toBe((end - begin) / size);
      const expected = Array.from(values, (_, i) => (((begin / size + i) % 13) - 6) / 64);
      expect(Array.from(values)).toEqual(expected);
    }
  });

  it('converts F16 subnormals, extremes, signed zero, infinities and NaN exactly', () => {
    const file = withRawHalves('F16', [0x0001, 0x03ff, 0x7bff, 0xfc00, 0x7e00, 0x8000, 0x3c00, 0xc000]);
    const values = Array.from(readModelTensor(file, 'encoder.norm.weight'));
    expect(values).toEqual([2 ** -24, 1023 * 2 ** -24, 65504, -Infinity, NaN, -0, 1, -2]);
    expect(Object.is(values[5], -0)).toBe(true);
  });

  it('converts BF16 patterns exactly', () => {
    const file = withRawHalves('BF16', [0x3f80, 0x0001, 0xff80, 0x7fc0, 0x8000, 0x4049, 0x7f7f, 0xc000]);
    const values = Array.from(readModelTensor(file, 'encoder.norm.weight'));
    expect(values).toEqual([1, Math.fround(2 ** -133), -Infinity, NaN, -0, 3.140625, Math.fround(3.3895313892515355e38), -2]);
  });

  it('names an unknown tensor', () => {
    const file = writeFile(serialize(nanoParts()));
    expect(() => readModelTensor(file, 'encoder.nope')).toThrow(InvalidArgumentError);
    expect(() => readModelTensor(file, 'encoder.nope')).toThrow(/has no tensor encoder\.nope/);
  });
});

describe('damaged weight files', () => {
  it('rejects a path that does not exist, naming it', () => {
    const file = path.join(folder.dir, 'missing.safetensors');
    expect(() => inspectModel(file)).toThrow(ModelLoadError);
    try {
      inspectModel(file);
    } catch (error) {
      expect((error as ModelLoadError).file).toBe(file);
      expect((error as Error).message).toMatch(/does not exist\. Check the path/);
    }
  });

  it('rejects a directory', () => {
    const dir = path.join(folder.dir, 'a-directory');
    mkdirSync(dir);
    expect(() => inspectModel(dir)).toThrow(/is a directory, not a weight file/);
  });

  it('rejects a file shorter than the 8-byte length field', () => {
    expect(loadError(new Uint8Array([1, 2, 3])).error.message).toMatch(/3 bytes long, too short.*re-export/);
  });

  it('rejects a truncated file (tensor data cut off)', () => {
    const bytes = serialize(nanoParts());
    const { error } = loadError(bytes.subarray(0, bytes.length - 100));
    expect(error.message).toMatch(/ends at byte \d+ of the data buffer, but the buffer holds only \d+ bytes: the file is truncated/);
    expect(error.message).toMatch(/copy or download it again/);
  });

  it('rejects a file cut inside its header', () => {
    const bytes = serialize(nanoParts());
    expect(loadError(bytes.subarray(0, 200)).error.message).toMatch(/header length field says \d+ bytes but only 192 bytes follow: the file is truncated/);
  });

  it('rejects a header length beyond the 100 MB limit', () => {
    const bytes = serialize(nanoParts(), { headerLength: 1n << 40n });
    expect(loadError(bytes).error.message).toMatch(/more than the 100 MB limit/);
  });

  it('rejects a header length below 2', () => {
    expect(loadError(serialize(nanoParts(), { headerLength: 1n })).error.message).toMatch(/too short for a JSON header/);
  });

  it('rejects a header that is not JSON', () => {
    const parts = nanoParts();
    const header = headerText(parts).replace('"__metadata__":', '"__metadata__"');
    expect(loadError(serialize(parts, { header })).error.message).toMatch(/header is not valid JSON/);
  });

  it('rejects deeply nested JSON without recursing into it', () => {
    const parts = nanoParts();
    const header = `{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(loadError(serialize(parts, { header })).error.message).toMatch(/nests JSON deeper than 16 levels/);
  });

  it('rejects a tensor described twice', () => {
    const parts = nanoParts();
    const header = headerText(parts).replace(/}$/, `,"encoder.norm.bias":${JSON.stringify(entry(parts, 'encoder.norm.bias'))}}`);
    expect(loadError(serialize(parts, { header })).error.message).toMatch(/names "encoder\.norm\.bias" twice/);
  });

  it('rejects an unsupported dtype and names the tensor', () => {
    const bytes = edited((parts) => {
      entry(parts, 'encoder.norm.weight').dtype = 'I32';
    });
    expect(loadError(bytes).error.message).toMatch(/Tensor "encoder\.norm\.weight" has dtype "I32"; sct-diff reads only F32, F16 and BF16/);
  });

  it('rejects a negative shape entry', () => {
    const bytes = edited((parts) => {
      entry(parts, 'encoder.norm.weight').shape = [-8];
    });
    expect(loadError(bytes).error.message).toMatch(/"encoder\.norm\.weight" has negative or oversized shape entry -8/);
  });

  it('rejects a shape whose element count overflows 64 bits', () => {
    const bytes = edited((parts) => {
      entry(parts, 'encoder.norm.weight').shape = [2 ** 40, 2 ** 40];
    });
    expect(loadError(bytes).error.message).toMatch(/element count overflows/);
  });

  it('rejects a byte size that does not match dtype and shape', () => {
    const bytes = edited((parts) => {
      const tensor = entry(parts, 'encoder.norm.weight');
      tensor.data_offsets = [tensor.data_offsets[0], tensor.data_offsets[1] - 4];
    });
    expect(loadError(bytes).error.message).toMatch(/"encoder\.norm\.weight" has 28 bytes of data, but dtype F32 and shape \[8\] need 32/);
  });

  it('rejects offsets that end before they begin', () => {
    const bytes = edited((parts) => {
      const tensor = entry(parts, 'encoder.norm.weight');
      tensor.data_offsets = [tensor.data_offsets[1], tensor.data_offsets[0]];
    });
    expect(loadError(bytes).error.message).toMatch(/end before they begin/);
  });

  it('rejects overlapping tensors', () => {
    const bytes = edited((parts) => {
      const first = entry(parts, 'encoder.norm.weight');
      const second = entry(parts, 'encoder.norm.bias');
      second.data_offsets = [first.data_offsets[0] + 4, first.data_offsets[0] + 36];
    });
    expect(loadError(bytes).error.message).toMatch(/Tensors "encoder\.norm\.(weight|bias)" and "encoder\.norm\.(weight|bias)" overlap/);
  });

  it('names missing tensors with a count', () => {
    const bytes = edited((parts) => {
      for (const name of ['decoder.norm_f.weight', 'encoder.norm.bias', 'encoder.norm.weight', 'decoder.pos1d']) {
        parts.tensors.delete(name);
      }
    });
    const { error } = loadError(bytes);
    expect(error.message).toMatch(/4 tensor\(s\) the config needs are missing: encoder\.norm\.weight, encoder\.norm\.bias, decoder\.pos1d and 1 more/);
    expect(error.message).toMatch(/re-export the model with training\/export\.py/);
  });

  it('names unexpected tensors', () => {
    const parts = nanoParts();
    const end = parts.data.length;
    parts.tensors.set('decoder.extra.weight', { dtype: 'F32', shape: [2], data_offsets: [end, end + 8] });
    const data = new Uint8Array(end + 8);
    data.set(parts.data);
    const { error } = loadError(serialize({ ...parts, data }));
    expect(error.message).toMatch(/1 tensor\(s\) are not part of the model: decoder\.extra\.weight/);
  });

  it('names a tensor whose shape does not match the config', () => {
    const bytes = edited((parts) => {
      const tensor = entry(parts, 'encoder.norm.weight');
      tensor.shape = [4];
      tensor.data_offsets = [tensor.data_offsets[0], tensor.data_offsets[0] + 16];
    });
    expect(loadError(bytes).error.message).toMatch(/1 tensor\(s\) have the wrong shape: encoder\.norm\.weight is \[4\] but config "nano" needs \[8\]/);
  });

  it('explains a weight file of another format version', () => {
    const bytes = edited((parts) => {
      parts.metadata.format_version = '2';
    });
    expect(loadError(bytes).error.message).toMatch(
      /uses sct-diff weight format version "2", but this build of sct-diff reads version "1"\. Use the sct-diff version that wrote the file/,
    );
  });

  it('rejects a safetensors file that is not an sct-diff model', () => {
    const bytes = edited((parts) => {
      parts.metadata = { format: 'pt' };
    });
    expect(loadError(bytes).error.message).toMatch(/metadata format is "pt", expected "sct-diff"\. Is this an sct-diff model\?/);
  });

  it('rejects a file without metadata', () => {
    const parts = nanoParts();
    const header = JSON.stringify(Object.fromEntries(parts.tensors));
    expect(loadError(serialize(parts, { header })).error.message).toMatch(/no __metadata__ section/);
  });

  it.each([
    [{ ...NANO_CONFIG, encoder: { ...NANO_CONFIG.encoder, heads: 3 } }, /encoder\.heads: 3 does not divide encoder\.dim 8/],
    [{ ...NANO_CONFIG, encoder: { ...NANO_CONFIG.encoder, search_size: 18 } }, /encoder\.search_size: 18 is not a multiple of encoder\.patch 4/],
    [{ ...NANO_CONFIG, decoder: { ...NANO_CONFIG.decoder, dim: -16 } }, /decoder\.dim: expected an integer in \[1, \d+\] but received -16/],
    [{ ...NANO_CONFIG, decoder: { ...NANO_CONFIG.decoder, clip_len: 2.5 } }, /decoder\.clip_len: expected an integer but received 2\.5/],
    [{ ...NANO_CONFIG, diffusion: { ...NANO_CONFIG.diffusion, t_new: 10 } }, /diffusion\.t_new: expected a timestep in \[0, T\) but received 10/],
    [{ ...NANO_CONFIG, diffusion: { ...NANO_CONFIG.diffusion, schedule: 'linear' } }, /diffusion\.schedule: expected "cosine"/],
    [{ ...NANO_CONFIG, encoder: { ...NANO_CONFIG.encoder, dropout: 0.1 } }, /encoder\.dropout: is not a field of format version 1/],
  ])('rejects an invalid config, naming the field (%#)', (config, pattern) => {
    const bytes = edited((parts) => {
      parts.metadata.config = JSON.stringify(config);
    });
    const { error } = loadError(bytes);
    expect(error.message).toMatch(/The model config in the file is invalid: /);
    expect(error.message).toMatch(pattern);
  });
});

describe('loading through an engine', () => {
  it('rejects a damaged file asynchronously with a ModelLoadError carrying the caller stack', async () => {
    const file = writeFile(serialize(nanoParts()).subarray(0, 500));
    const failure = await NativeEngine.open({ model: file, backend: 'cpu', threads: 1 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelLoadError);
    expect((failure as ModelLoadError).file).toBe(file);
    expect((failure as Error).stack).toContain('weights.test.ts');
  });
});
