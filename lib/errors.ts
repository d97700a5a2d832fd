/**
 * Typed errors of sct-diff. Every error the package throws on purpose is a `SctDiffError`
 * with a stable `code`, so callers can branch on `err.code` instead of parsing messages.
 */

/** Stable machine-readable error codes. */
export type SctDiffErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_FRAME'
  | 'ERR_INVALID_BOX'
  | 'ERR_DISPOSED'
  | 'ERR_NOT_INITIALIZED'
  | 'ERR_BUSY'
  | 'ERR_MODEL_LOAD'
  | 'ERR_BACKEND_UNAVAILABLE'
  | 'ERR_NATIVE'
  | 'ERR_IO';

/** Base class of every error thrown on purpose by sct-diff. */
export class SctDiffError extends Error {
  readonly code: SctDiffErrorCode;
  constructor(code: SctDiffErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A caller passed a value of the wrong type, range or shape. */
export class InvalidArgumentError extends SctDiffError {
  constructor(message: string, code: SctDiffErrorCode = 'ERR_INVALID_ARGUMENT') {
    super(code, message);
  }
}

/** A frame's buffer does not match its declared width, height, stride or format. */
export class InvalidFrameError extends InvalidArgumentError {
  constructor(message: string) {
    super(message, 'ERR_INVALID_FRAME');
  }
}

/** A box is empty, non-finite, or lies outside the image. */
export class InvalidBoxError extends InvalidArgumentError {
  constructor(message: string) {
    super(message, 'ERR_INVALID_BOX');
  }
}

/** The object was used after `dispose()`. */
export class DisposedError extends SctDiffError {
  constructor(what: string) {
    super('ERR_DISPOSED', `${what} has been disposed and cannot be used any more`);
  }
}

/** `track()` or `finish()` was called before `init()`. */
export class NotInitializedError extends SctDiffError {
  constructor(message: string) {
    super('ERR_NOT_INITIALIZED', message);
  }
}

/** A call arrived while another call on the same tracker was still running. */
export class BusyError extends SctDiffError {
  constructor(message: string) {
    super('ERR_BUSY', message);
  }
}

/** A weight file could not be read, parsed or matched to a known configuration. */
export class ModelLoadError extends SctDiffError {
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super('ERR_MODEL_LOAD', `Could not load model "${file}": ${reason}`, options);
    this.file = file;
  }
}

/** The requested compute backend cannot run on this host. */
export class BackendUnavailableError extends SctDiffError {
  readonly backend: string;
  constructor(backend: string, message: string) {
    super('ERR_BACKEND_UNAVAILABLE', message);
    this.backend = backend;
  }
}

/** An unexpected failure inside the native engine. */
export class NativeError extends SctDiffError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NATIVE', message, options);
  }
}
