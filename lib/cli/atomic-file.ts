/** Writing result files so that a failed run never leaves a half-written file under the final name. */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IoError } from '../io/errors.js';

/**
 * Write `contents` to a temporary name next to `path`, then rename it into place.
 * @throws IoError when the folder is missing or not writable (nothing is left behind).
 */
export async function writeFileAtomic(path: string, contents: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
  try {
    await writeFile(temporary, contents);
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new IoError(`Could not write "${path}": ${(cause as Error).message}`, { path, cause });
  }
}
