/** A writable for the CLI's injected stdout/stderr that records what was written. */
export class Capture {
  text = '';
  constructor(public isTTY = false) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}
