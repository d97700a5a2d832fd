/**
 * Progress on long work, written to stderr: a redrawn bar with frames per second when stderr
 * is a terminal, plain periodic lines otherwise (so logs of CI jobs stay readable).
 */

/** Where the command writes: the parts of a stream the CLI uses. */
export interface OutputStream {
  /** Write text. */
  write(text: string): unknown;
  /** True when the stream is a terminal. */
  isTTY?: boolean;
  /** Terminal width in columns, when a terminal. */
  columns?: number;
}

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** What is being counted, e.g. "track". */
  label: string;
  /** Expected total, when known (enables the bar and ETA). */
  total?: number;
  /** Seconds between plain lines when not a terminal. Default: 5. */
  lineIntervalSeconds?: number;
  /** Clock in milliseconds. Default: performance.now. */
  now?: () => number;
  /** Write nothing at all. Default: false. */
  quiet?: boolean;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Counts units of work (frames) and reports progress and throughput. */
export class Progress {
  private done = 0;
  private readonly started: number;
  private lastDraw = -Infinity;
  private readonly now: () => number;
  private readonly interval: number;

  constructor(private readonly stream: OutputStream, private readonly options: ProgressOptions) {
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
    this.interval = (options.lineIntervalSeconds ?? 5) * 1000;
  }

  /** Units completed so far. */
  get count(): number {
    return this.done;
  }

  /** Units per second since the start. */
  get rate(): number {
    const seconds = (this.now() - this.started) / 1000;
    return seconds > 0 ? this.done / seconds : 0;
  }

  /** One status text, e.g. "track  45/120 frames  12.3 fps  ETA 6s". */
  describe(): string {
    const rate = this.rate;
    const { total, label } = this.options;
    const count = total === undefined ? `${this.done} frames` : `${this.done}/${total} frames`;
    const eta = total !== undefined && rate > 0 ? `  ETA ${formatSeconds((total - this.done) / rate)}` : '';
    return `${label}  ${count}  ${rate.toFixed(1)} fps${eta}`;
  }

  /** Count `n` more units, redrawing at most 10 times a second (TTY) or every interval (plain). */
  tick(n = 1): void {
    this.done += n;
    if (this.options.quiet) return;
    const now = this.now();
    if (this.stream.isTTY) {
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.bar()}\x1b[K`);
    } else if (now - this.lastDraw >= this.interval) {
      if (this.lastDraw === -Infinity) {
        this.lastDraw = now; // first unit: start the interval, no line yet
        return;
      }
      this.lastDraw = now;
      this.stream.write(`${this.describe()}\n`);
    }
  }

  /** Finish: the final status on its own line. */
  end(): void {
    if (this.options.quiet) return;
    this.stream.write(this.stream.isTTY ? `\r${this.bar()}\x1b[K\n` : `${this.describe()}\n`);
  }

  private bar(): string {
    const text = this.describe();
    const { total } = this.options;
    if (total === undefined || total <= 0) return text;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - text.length - 4));
    const filled = Math.min(width, Math.round((this.done / total) * width));
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`;
  }
}
