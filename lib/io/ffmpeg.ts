/**
 * Where the ffmpeg and ffprobe programs are, and the small pieces every child-process user in
 * lib/io shares: a bounded stderr tail and a promise for the child's exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { IoError } from './errors.js';

/** Paths (or PATH names) of the two programs lib/io runs. */
export interface FfmpegPrograms {
  /** The encoder/decoder. Default: `$SCT_DIFF_FFMPEG` or `ffmpeg` on PATH. */
  ffmpeg: string;
  /** The probe. Default: `$SCT_DIFF_FFPROBE` or `ffprobe` on PATH. */
  ffprobe: string;
}

/** The ffmpeg/ffprobe programs to run, from `SCT_DIFF_FFMPEG`/`SCT_DIFF_FFPROBE` or PATH. */
export function ffmpegPrograms(): FfmpegPrograms {
  return {
    ffmpeg: process.env.SCT_DIFF_FFMPEG || 'ffmpeg',
    ffprobe: process.env.SCT_DIFF_FFPROBE || 'ffprobe',
  };
}

/**
 * Keeps only the last `limit` characters of a child's stderr, so a chatty two-hour decode
 * cannot grow memory while the end of the log (where ffmpeg puts the reason) is kept.
 */
export class StderrTail {
  private text = '';
  /** @param limit - Characters kept. Default: 4000. */
  constructor(private readonly limit = 4000) {}
  /** Append a chunk of stderr output. */
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > 2 * this.limit) this.text = this.text.slice(-this.limit);
  }
  /** The last lines, at most `limit` characters, starting at a line boundary where possible. */
  toString(): string {
    if (this.text.length <= this.limit) return this.text;
    const cut = this.text.slice(-this.limit);
    const newline = cut.indexOf('\n');
    return newline >= 0 ? cut.slice(newline + 1) : cut;
  }
}

/** How a child process ended. */
export interface ChildExit {
  /** Exit code, or null when it was killed by a signal. */
  code: number | null;
  /** The signal that killed it, or null. */
  signal: NodeJS.Signals | null;
}

/**
 * Settles when the child has exited and its stdio is closed. A failure to start (e.g. the
 * program is not installed) rejects with an IoError that says how to install it.
 */
export function childExit(child: ChildProcess, program: string): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(new IoError(`Could not start "${program}": it was not found. Install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg) or set SCT_DIFF_FFMPEG and SCT_DIFF_FFPROBE to its programs`, { cause: error }));
      } else {
        reject(new IoError(`Could not start "${program}": ${error.message}`, { cause: error }));
      }
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/** Describe an exit for an error message: "exit code 1" or "signal SIGKILL". */
export function describeExit(exit: ChildExit): string {
  return exit.code !== null ? `exit code ${exit.code}` : `signal ${exit.signal ?? 'unknown'}`;
}

/** Result of {@link runToCompletion}. */
export interface CompletedRun extends ChildExit {
  /** Everything the program printed on stdout. */
  stdout: Buffer;
  /** The tail of what it printed on stderr. */
  stderr: string;
}

/** Run a program with small output to completion (ffprobe, `ffmpeg -encoders`). */
export async function runToCompletion(program: string, args: string[]): Promise<CompletedRun> {
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  const stderr = new StderrTail();
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exit = await childExit(child, program);
  return { ...exit, stdout: Buffer.concat(chunks), stderr: stderr.toString() };
}

/** Kill a child that is still running and wait until it is gone. Never throws. */
export async function stopChild(child: ChildProcess, exited: Promise<ChildExit>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited.catch(() => undefined);
}
