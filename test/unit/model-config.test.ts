import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../lib/errors.js';
import { B256_CONFIG, TINY_CONFIG, modelConfigToJson, parseModelConfig, tokenizerConfigOf } from '../../lib/model/config.js';
import { BEGIN_TOKEN, DEFAULT_TOKENIZER, END_TOKEN, VOCAB_SIZE } from '../../lib/model/tokenizer.js';

/** The JSON block of docs/model-contract.md, so code and contract cannot drift apart silently. */
function contractJson(): Record<string, unknown> {
  const text = readFileSync(new URL('../../docs/model-contract.md', import.meta.url), 'utf8');
  const match = /```json\n([\s\S]*?)```/.exec(text);
  if (!match?.[1]) throw new Error('docs/model-contract.md has no json block');
  return JSON.parse(match[1]) as Record<string, unknown>;
}

/** A fresh mutable copy of the tiny config's JSON with `edit` applied. */
function tinyWith(edit: (json: Record<string, Record<string, unknown>>) => void): unknown {
  const json = JSON.parse(JSON.stringify(modelConfigToJson(TINY_CONFIG))) as Record<string, Record<string, unknown>>;
  edit(json);
  return json;
}

describe('TINY_CONFIG and B256_CONFIG', () => {
  it('TINY_CONFIG is exactly the config printed in docs/model-contract.md', () => {
    expect(parseModelConfig(contractJson())).toEqual(TINY_CONFIG);
  });

  it('B256_CONFIG differs from tiny exactly where the contract says', () => {
    expect(B256_CONFIG.name).toBe('b256');
    expect(B256_CONFIG.encoder).toEqual({ ...TINY_CONFIG.encoder, dim: 768, depth: 12, heads: 12, mlp: 3072, searchSize: 256, templateSize: 128 });
    expect(B256_CONFIG.decoder).toEqual({ ...TINY_CONFIG.decoder, dim: 512, dtRank: 32 });
    expect(B256_CONFIG.tokens).toEqual(TINY_CONFIG.tokens);
    expect(B256_CONFIG.diffusion).toEqual(TINY_CONFIG.diffusion);
    expect(B256_CONFIG.pixel).toEqual(TINY_CONFIG.pixel);
    for (const cfg of [TINY_CONFIG, B256_CONFIG]) {
      expect(cfg.decoder.dtRank).toBe(Math.ceil(cfg.decoder.dim / 16));
      expect(parseModelConfig(modelConfigToJson(cfg))).toEqual(cfg);
    }
  });

  it('agree with the tokenizer constants', () => {
    expect(tokenizerConfigOf(TINY_CONFIG)).toEqual(DEFAULT_TOKENIZER);
    expect(TINY_CONFIG.tokens.begin).toBe(BEGIN_TOKEN);
    expect(TINY_CONFIG.tokens.end).toBe(END_TOKEN);
    expect(TINY_CONFIG.tokens.vocab).toBe(VOCAB_SIZE);
  });

  it('are frozen', () => {
    expect(Object.isFrozen(TINY_CONFIG)).toBe(true);
    expect(Object.isFrozen(B256_CONFIG.encoder)).toBe(true);
    expect(Object.isFrozen(TINY_CONFIG.pixel.mean)).toBe(true);
  });
});

describe('parseModelConfig', () => {
  it('ignores unknown keys', () => {
    const json = tinyWith((j) => {
      j.extra = { anything: 1 };
      (j.encoder as Record<string, unknown>).future_field = true;
    });
    expect(parseModelConfig(json)).toEqual(TINY_CONFIG);
  });

  it.each<[string, (j: Record<string, Record<string, unknown>>) => void, string]>([
    ['a negative dim', (j) => { j.encoder!.dim = -3; }, 'Expected a positive integer for config.encoder.dim but received -3'],
    ['a fractional depth', (j) => { j.encoder!.depth = 1.5; }, 'Expected a positive integer for config.encoder.depth but received 1.5'],
    ['a string size', (j) => { j.encoder!.search_size = '128'; }, 'Expected a positive integer for config.encoder.search_size but received "128"'],
    ['a zero factor', (j) => { j.encoder!.search_factor = 0; }, 'Expected a finite positive number for config.encoder.search_factor but received 0'],
    ['a missing eps', (j) => { delete j.decoder!.rms_eps; }, 'Expected a finite positive number for config.decoder.rms_eps but received undefined'],
    ['a missing section', (j) => { delete j.decoder; }, 'Expected an object for config.decoder but received undefined'],
    ['an array section', (j) => { (j as Record<string, unknown>).pixel = [1, 2]; }, 'Expected an object for config.pixel but received an array of length 2'],
    ['an unknown schedule', (j) => { j.diffusion!.schedule = 'linear'; }, 'Expected "cosine" for config.diffusion.schedule but received "linear"'],
    ['a negative s', (j) => { j.diffusion!.s = -0.1; }, 'Expected a finite non-negative number for config.diffusion.s but received -0.1'],
    ['a NaN range', (j) => { j.tokens!.range_min = Number.NaN; }, 'Expected a finite number for config.tokens.range_min but received NaN'],
    ['one bin', (j) => { j.tokens!.bins = 1; }, 'Expected an integer of at least 2 for config.tokens.bins but received 1'],
    ['a 2-channel mean', (j) => { j.pixel!.mean = [0.5, 0.5]; }, 'Expected an array of 3 finite numbers for config.pixel.mean but received an array of length 2'],
    ['a zero std', (j) => { j.pixel!.std = [0.2, 0, 0.2]; }, 'Expected an array of 3 finite positive numbers for config.pixel.std but received 0'],
    ['an empty name', (j) => { (j as Record<string, unknown>).name = ''; }, 'Expected a non-empty string for config.name but received ""'],
    ['heads not dividing dim', (j) => { j.encoder!.heads = 5; }, 'Expected config.encoder.heads to divide config.encoder.dim but received heads 5 and dim 192'],
    ['a search size off the patch grid', (j) => { j.encoder!.search_size = 120; }, 'Expected config.encoder.search_size to be a multiple of config.encoder.patch (16) but received 120'],
    ['a template size off the patch grid', (j) => { j.encoder!.template_size = 72; }, 'Expected config.encoder.template_size to be a multiple of config.encoder.patch (16) but received 72'],
    ['a grid not divisible by vis_stride', (j) => { j.decoder!.vis_stride = 3; }, 'Expected the search grid side 8 to be a multiple of config.decoder.vis_stride but received 3'],
    ['an empty range', (j) => { j.tokens!.range_max = -0.5; }, 'Expected config.tokens.range_max to exceed config.tokens.range_min but received -0.5 and -0.5'],
    ['a misplaced begin', (j) => { j.tokens!.begin = 799; }, 'Expected config.tokens.begin to be 800 (bins × range) but received 799'],
    ['a misplaced end', (j) => { j.tokens!.end = 802; }, 'Expected config.tokens.end to be 801 (begin + 1) but received 802'],
    ['a vocabulary without End', (j) => { j.tokens!.vocab = 801; }, 'Expected config.tokens.vocab to be at least 802 but received 801'],
    ['t_new past T', (j) => { j.diffusion!.t_new = 1000; }, 'Expected config.diffusion.t_new in [0, 999] but received 1000'],
    ['a negative t_refine', (j) => { j.diffusion!.t_refine = -1; }, 'Expected a non-negative integer for config.diffusion.t_refine but received -1'],
  ])('rejects %s', (_name, edit, message) => {
    expect(() => parseModelConfig(tinyWith(edit))).toThrow(new InvalidArgumentError(message));
  });

  it('rejects a non-object', () => {
    expect(() => parseModelConfig('tiny')).toThrow(new InvalidArgumentError('Expected an object for config but received "tiny"'));
    expect(() => parseModelConfig(null)).toThrow('Expected an object for config but received null');
  });

  it('accepts a larger vocabulary (a reserved padding token)', () => {
    const cfg = parseModelConfig(tinyWith((j) => { j.tokens!.vocab = 803; }));
    expect(cfg.tokens.vocab).toBe(803);
  });
});
