/**
 * The contract between the TypeScript tracker and a compute engine (native CPU, CUDA, or the
 * deterministic engine used by the pure-TS tests). Only small arrays cross this boundary per
 * step; images and encoder features stay inside the engine.
 */

/** Pixel layouts accepted for frames. */
export type PixelFormat = 'rgb' | 'bgr' | 'rgba' | 'gray';

/** One video frame: 8-bit pixels, row-major, `stride` bytes between rows. */
export interface Frame {
  /** Pixel bytes. Not copied: the engine reads it during the call only. */
  data: Uint8Array;
  /** Width in pixels (> 0). */
  width: number;
  /** Height in pixels (> 0). */
  height: number;
  /** Pixel layout. */
  format: PixelFormat;
  /** Bytes between the starts of two rows. Default: width × channels. */
  stride?: number;
}

/**
 * A square crop as OSTrack/ARTrack's `sample_target` cuts it: the image region
 * [x0, x0 + side) × [y0, y0 + side) (may extend past the image; outside is zero),
 * resized to `outputSize` × `outputSize`.
 */
export interface CropParams {
  /** Left edge of the crop in image pixels (integer). */
  x0: number;
  /** Top edge of the crop in image pixels (integer). */
  y0: number;
  /** Side of the square crop in image pixels (integer, > 0). */
  side: number;
  /** Output resolution of the crop (search or template size of the model). */
  outputSize: number;
}

/** Sizes read from the model file that the tracker needs. */
export interface EngineModelInfo {
  /** Config name stored in the model file (e.g. "tiny", "b256"). */
  name: string;
  /** Search-crop resolution in pixels. */
  searchSize: number;
  /** Template-crop resolution in pixels. */
  templateSize: number;
  /** Search crop side as a multiple of the target size. */
  searchFactor: number;
  /** Template crop side as a multiple of the target size. */
  templateFactor: number;
  /** Frames per clip the decoder was built for (N). */
  clipLength: number;
  /** Coordinate bins (400 for ARTrack's tokenizer). */
  bins: number;
  /** Lowest representable coordinate, in crop units (-0.5 for ARTrack's tokenizer). */
  rangeMin: number;
  /** Highest representable coordinate, in crop units (1.5 for ARTrack's tokenizer). */
  rangeMax: number;
  /** Diffusion steps T of the schedule. */
  diffusionSteps: number;
  /** Timestep used for frames decoded for the first time. */
  tNew: number;
  /** Timestep to which overlapping frames' previous tokens are re-noised. */
  tRefine: number;
}

/** One decoder call over a window of up to N frames. */
export interface DecodeRequest {
  /** Feature slots (as given to `encode`) of the window's frames, oldest first. */
  slots: number[];
  /** 4 × slots.length coordinate tokens (x1, y1, x2, y2 per frame): the prior trajectory. */
  tokens: Int32Array;
  /** Diffusion timestep per frame (tNew for new frames, tRefine for re-estimated ones). */
  timesteps: Int32Array;
  /** Seed of the engine's Gaussian noise (see docs/model.md, "Noise"). */
  seed: bigint;
}

/** Result of one decoder call. */
export interface DecodeResult {
  /** 4 × frames predicted coordinate tokens (argmax). */
  tokens: Int32Array;
  /** 4 × frames top-1 probabilities of those tokens. */
  scores: Float32Array;
}

/**
 * A compute engine. Calls on one engine are serialized by the engine itself; a tracker
 * never issues overlapping calls.
 */
export interface Engine {
  /** Name of the backend that runs ("cpu", "cuda", "test"). */
  readonly backend: string;
  /** Sizes from the loaded model. */
  readonly model: EngineModelInfo;
  /**
   * Crop, resize and normalize a template (0: initial, 1: dynamic) and keep it for the
   * following `encode` calls.
   */
  setTemplate(index: 0 | 1, frame: Frame, crop: CropParams): Promise<void>;
  /**
   * Encode frames with the current templates; features are stored in `slots[i]`
   * (0 ≤ slot < 2 × clipLength).
   */
  encode(frames: Frame[], crops: CropParams[], slots: number[]): Promise<void>;
  /** Run the diffusion decoder over a window of stored features. */
  decode(request: DecodeRequest): Promise<DecodeResult>;
  /** Release native resources. Idempotent. */
  dispose(): Promise<void>;
}
