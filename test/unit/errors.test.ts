import { describe, expect, it } from 'vitest';
import { ModelLoadError, SctDiffError, InvalidBoxError, InvalidArgumentError } from '../../lib/errors.js';

describe('errors', () => {
  it('carry a stable code and the subclass name', () => {
    const e = new InvalidBoxError('Expected a finite positive width for box but received -3');
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e).toBeInstanceOf(SctDiffError);
    expect(e.code).toBe('ERR_INVALID_BOX');
    expect(e.name).toBe('InvalidBoxError');
  });
  it('model load errors name the file and the reason', () => {
    const e = new ModelLoadError('m.safetensors', 'header length 9999 exceeds file size 12');
    expect(e.message).toBe('Could not load model "m.safetensors": header length 9999 exceeds file size 12');
    expect(e.file).toBe('m.safetensors');
  });
});
