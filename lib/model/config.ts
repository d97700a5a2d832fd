/**
 * The model configuration stored in a weight file's safetensors metadata (key `config`,
 * snake_case JSON; docs/model-contract.md "Config"), as a typed camelCase object.
 */
import { InvalidArgumentError } from '../errors.js';
import { describeReceived } from '../geometry/describe.js';
import type { TokenizerConfig } from './tokenizer.js';

/** OSTrack one-stream ViT encoder sizes. */
export interface EncoderConfig {
  /** Patch size P in pixels (`patch`). */
  patch: number;
  /** Token width D (`dim`). */
  dim: number;
  /** Number of transformer blocks (`depth`). */
  depth: number;
  /** Attention heads; must divide `dim` (`heads`). */
  heads: number;
  /** MLP hidden width (`mlp`). */
  mlp: number;
  /** Search-crop resolution, a multiple of `patch` (`search_size`). */
  searchSize: number;
  /** Template-crop resolution, a multiple of `patch` (`template_size`). */
  templateSize: number;
  /** Search crop side as a multiple of the target size (`search_factor`). */
  searchFactor: number;
  /** Template crop side as a multiple of the target size (`template_factor`). */
  templateFactor: number;
  /** LayerNorm epsilon (`ln_eps`). */
  lnEps: number;
}

/** Mamba diffusion decoder sizes. */
export interface DecoderConfig {
  /** Width d (`dim`). */
  dim: number;
  /** Number of diffusion blocks (`blocks`). */
  blocks: number;
  /** SSM state size (`d_state`). */
  dState: number;
  /** Causal depthwise conv width (`d_conv`). */
  dConv: number;
  /** Mamba expansion E/d (`expand`). */
  expand: number;
  /** Rank of the dt projection (`dt_rank`, ceil(dim/16) in the shipped configs). */
  dtRank: number;
  /** Spatial kernel = stride of the Conv3d over encoder features (`vis_stride`). */
  visStride: number;
  /** Frames per clip N (`clip_len`). */
  clipLen: number;
  /** RMSNorm epsilon (`rms_eps`). */
  rmsEps: number;
}

/** Coordinate tokenizer and vocabulary. */
export interface TokensConfig {
  /** Bins per crop unit (`bins`). */
  bins: number;
  /** Smallest coordinate (`range_min`). */
  rangeMin: number;
  /** Largest coordinate (`range_max`). */
  rangeMax: number;
  /** Vocabulary size (`vocab`), at least `end` + 1. */
  vocab: number;
  /** [Begin] token = round(bins × (rangeMax − rangeMin)) (`begin`). */
  begin: number;
  /** [End] token = begin + 1 (`end`). */
  end: number;
}

/** Diffusion schedule and the timesteps used at inference. */
export interface DiffusionConfig {
  /** Number of steps T (`T`). */
  T: number;
  /** Schedule kind; only "cosine" exists (`schedule`). */
  schedule: 'cosine';
  /** Cosine offset (`s`). */
  s: number;
  /** Timestep for frames decoded the first time, in [0, T − 1] (`t_new`). */
  tNew: number;
  /** Timestep to which overlapping frames are re-noised, in [0, T − 1] (`t_refine`). */
  tRefine: number;
}

/** Pixel normalization (x/255 − mean)/std per RGB channel. */
export interface PixelConfig {
  /** Per-channel mean, RGB order (`mean`). */
  mean: [number, number, number];
  /** Per-channel standard deviation, RGB order, all > 0 (`std`). */
  std: [number, number, number];
}

/** A whole model configuration (docs/model-contract.md). */
export interface ModelConfig {
  /** Config name, e.g. "tiny" or "b256" (`name`). */
  name: string;
  /** Encoder sizes. */
  encoder: EncoderConfig;
  /** Decoder sizes. */
  decoder: DecoderConfig;
  /** Tokenizer and vocabulary. */
  tokens: TokensConfig;
  /** Diffusion schedule. */
  diffusion: DiffusionConfig;
  /** Pixel normalization. */
  pixel: PixelConfig;
}

/** The tiny config that the tests and the shipped small model use (contract values). */
export const TINY_CONFIG: Readonly<ModelConfig> = deepFreeze({
  name: 'tiny',
  encoder: {
    patch: 16, dim: 192, depth: 6, heads: 3, mlp: 768,
    searchSize: 128, templateSize: 64, searchFactor: 4.0, templateFactor: 2.0, lnEps: 1e-6,
  },
  decoder: { dim: 128, blocks: 6, dState: 16, dConv: 4, expand: 2, dtRank: 8, visStride: 2, clipLen: 6, rmsEps: 1e-5 },
  tokens: { bins: 400, rangeMin: -0.5, rangeMax: 1.5, vocab: 802, begin: 800, end: 801 },
  diffusion: { T: 1000, schedule: 'cosine', s: 0.008, tNew: 999, tRefine: 500 },
  pixel: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
});

/** The paper-sized B256 config: ViT-B encoder at 256/128 px, decoder width 512. */
export const B256_CONFIG: Readonly<ModelConfig> = deepFreeze({
  ...TINY_CONFIG,
  name: 'b256',
  encoder: { ...TINY_CONFIG.encoder, dim: 768, depth: 12, heads: 12, mlp: 3072, searchSize: 256, templateSize: 128 },
  decoder: { ...TINY_CONFIG.decoder, dim: 512, dtRank: 32 },
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function fail(expected: string, path: string, value: unknown): never {
  throw new InvalidArgumentError(`Expected ${expected} for ${path} but received ${describeReceived(value)}`);
}

function section(parent: Record<string, unknown>, key: string, path: string): Record<string, unknown> {
  const value = parent[key];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('an object', `${path}.${key}`, value);
  return value as Record<string, unknown>;
}

function positiveInteger(record: Record<string, unknown>, key: string, path: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail('a positive integer', `${path}.${key}`, value);
  return value;
}

function nonNegativeInteger(record: Record<string, unknown>, key: string, path: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail('a non-negative integer', `${path}.${key}`, value);
  return value;
}

function positiveNumber(record: Record<string, unknown>, key: string, path: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail('a finite positive number', `${path}.${key}`, value);
  return value;
}

function finiteNumber(record: Record<string, unknown>, key: string, path: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) fail('a finite number', `${path}.${key}`, value);
  return value;
}

function triple(record: Record<string, unknown>, key: string, path: string, positive: boolean): [number, number, number] {
  const value = record[key];
  const what = positive ? 'an array of 3 finite positive numbers' : 'an array of 3 finite numbers';
  if (!Array.isArray(value) || value.length !== 3) fail(what, `${path}.${key}`, value);
  const items = value as unknown[];
  for (const item of items) {
    if (typeof item !== 'number' || !Number.isFinite(item) || (positive && item <= 0)) fail(what, `${path}.${key}`, item);
  }
  return items as [number, number, number];
}

function requireRule(ok: boolean, message: string): void {
  if (!ok) throw new InvalidArgumentError(message);
}

/**
 * Validate the snake_case JSON config of a model file (already parsed with `JSON.parse`) and
 * return it as a {@link ModelConfig}. Unknown keys are ignored so newer files stay readable.
 * Besides each field's type and range it checks the relations engines rely on: heads divide
 * dim, crop sizes are multiples of the patch, the search grid is a multiple of vis_stride,
 * begin/end follow the coordinate block, and t_new / t_refine are valid timesteps.
 * @throws InvalidArgumentError naming the field, e.g.
 *   "Expected a positive integer for config.encoder.dim but received -3".
 */
export function parseModelConfig(json: unknown): ModelConfig {
  const root = 'config';
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('an object', root, json);
  const top = json as Record<string, unknown>;
  if (typeof top.name !== 'string' || top.name.length === 0) fail('a non-empty string', `${root}.name`, top.name);

  const e = section(top, 'encoder', root);
  const ep = `${root}.encoder`;
  const encoder: EncoderConfig = {
    patch: positiveInteger(e, 'patch', ep),
    dim: positiveInteger(e, 'dim', ep),
    depth: positiveInteger(e, 'depth', ep),
    heads: positiveInteger(e, 'heads', ep),
    mlp: positiveInteger(e, 'mlp', ep),
    searchSize: positiveInteger(e, 'search_size', ep),
    templateSize: positiveInteger(e, 'template_size', ep),
    searchFactor: positiveNumber(e, 'search_factor', ep),
    templateFactor: positiveNumber(e, 'template_factor', ep),
    lnEps: positiveNumber(e, 'ln_eps', ep),
  };

  const d = section(top, 'decoder', root);
  const dp = `${root}.decoder`;
  const decoder: DecoderConfig = {
    dim: positiveInteger(d, 'dim', dp),
    blocks: positiveInteger(d, 'blocks', dp),
    dState: positiveInteger(d, 'd_state', dp),
    dConv: positiveInteger(d, 'd_conv', dp),
    expand: positiveInteger(d, 'expand', dp),
    dtRank: positiveInteger(d, 'dt_rank', dp),
    visStride: positiveInteger(d, 'vis_stride', dp),
    clipLen: positiveInteger(d, 'clip_len', dp),
    rmsEps: positiveNumber(d, 'rms_eps', dp),
  };

  const t = section(top, 'tokens', root);
  const tp = `${root}.tokens`;
  const tokens: TokensConfig = {
    bins: positiveInteger(t, 'bins', tp),
    rangeMin: finiteNumber(t, 'range_min', tp),
    rangeMax: finiteNumber(t, 'range_max', tp),
    vocab: positiveInteger(t, 'vocab', tp),
    begin: nonNegativeInteger(t, 'begin', tp),
    end: nonNegativeInteger(t, 'end', tp),
  };
  if (tokens.bins < 2) fail('an integer of at least 2', `${tp}.bins`, tokens.bins);

  const f = section(top, 'diffusion', root);
  const fp = `${root}.diffusion`;
  if (f.schedule !== 'cosine') fail('"cosine"', `${fp}.schedule`, f.schedule);
  const s = finiteNumber(f, 's', fp);
  if (s < 0) fail('a finite non-negative number', `${fp}.s`, s);
  const diffusion: DiffusionConfig = {
    T: positiveInteger(f, 'T', fp),
    schedule: 'cosine',
    s,
    tNew: nonNegativeInteger(f, 't_new', fp),
    tRefine: nonNegativeInteger(f, 't_refine', fp),
  };

  const p = section(top, 'pixel', root);
  const pixel: PixelConfig = { mean: triple(p, 'mean', `${root}.pixel`, false), std: triple(p, 'std', `${root}.pixel`, true) };

  requireRule(encoder.dim % encoder.heads === 0, `Expected ${ep}.heads to divide ${ep}.dim but received heads ${encoder.heads} and dim ${encoder.dim}`);
  for (const [key, size] of [['search_size', encoder.searchSize], ['template_size', encoder.templateSize]] as const) {
    requireRule(size % encoder.patch === 0, `Expected ${ep}.${key} to be a multiple of ${ep}.patch (${encoder.patch}) but received ${size}`);
  }
  const grid = encoder.searchSize / encoder.patch;
  requireRule(grid % decoder.visStride === 0, `Expected the search grid side ${grid} to be a multiple of ${dp}.vis_stride but received ${decoder.visStride}`);
  requireRule(tokens.rangeMax > tokens.rangeMin, `Expected ${tp}.range_max to exceed ${tp}.range_min but received ${tokens.rangeMax} and ${tokens.rangeMin}`);
  const coordinateTokens = Math.round((tokens.rangeMax - tokens.rangeMin) * tokens.bins);
  requireRule(tokens.begin === coordinateTokens, `Expected ${tp}.begin to be ${coordinateTokens} (bins × range) but received ${tokens.begin}`);
  requireRule(tokens.end === tokens.begin + 1, `Expected ${tp}.end to be ${tokens.begin + 1} (begin + 1) but received ${tokens.end}`);
  requireRule(tokens.vocab >= tokens.end + 1, `Expected ${tp}.vocab to be at least ${tokens.end + 1} but received ${tokens.vocab}`);
  for (const [key, value] of [['t_new', diffusion.tNew], ['t_refine', diffusion.tRefine]] as const) {
    requireRule(value < diffusion.T, `Expected ${fp}.${key} in [0, ${diffusion.T - 1}] but received ${value}`);
  }

  return { name: top.name as string, encoder, decoder, tokens, diffusion, pixel };
}

/** The snake_case JSON form of a config, as stored in a model file (inverse of {@link parseModelConfig}). */
export function modelConfigToJson(cfg: ModelConfig): Record<string, unknown> {
  const { encoder: e, decoder: d, tokens: t, diffusion: f, pixel: p } = cfg;
  return {
    name: cfg.name,
    encoder: {
      patch: e.patch, dim: e.dim, depth: e.depth, heads: e.heads, mlp: e.mlp, search_size: e.searchSize,
      template_size: e.templateSize, search_factor: e.searchFactor, template_factor: e.templateFactor, ln_eps: e.lnEps,
    },
    decoder: {
      dim: d.dim, blocks: d.blocks, d_state: d.dState, d_conv: d.dConv, expand: d.expand, dt_rank: d.dtRank,
      vis_stride: d.visStride, clip_len: d.clipLen, rms_eps: d.rmsEps,
    },
    tokens: { bins: t.bins, range_min: t.rangeMin, range_max: t.rangeMax, vocab: t.vocab, begin: t.begin, end: t.end },
    diffusion: { T: f.T, schedule: f.schedule, s: f.s, t_new: f.tNew, t_refine: f.tRefine },
    pixel: { mean: [...p.mean], std: [...p.std] },
  };
}

/** The tokenizer grid of a config, for lib/model/tokenizer functions. */
export function tokenizerConfigOf(cfg: ModelConfig): TokenizerConfig {
  return { bins: cfg.tokens.bins, rangeMin: cfg.tokens.rangeMin, rangeMax: cfg.tokens.rangeMax };
}
