/**
 * Cutting a byte stream of raw frames (ffmpeg's `-f rawvideo` output) into one buffer per
 * frame, with the stream's own back-pressure: nothing is read from the pipe while the consumer
 * is busy, so memory stays at one frame plus the pipe's buffer however long the video is.
 */
import type { Readable } from 'node:stream';

/** Thrown by {@link readFixedSizeChunks} when the stream ends in the middle of a frame. */
export class PartialFrameError extends Error {
  constructor(readonly receivedBytes: number, readonly expectedBytes: number) {
    super(`the stream ended ${receivedBytes} bytes into a frame of ${expectedBytes} bytes`);
  }
}

/**
 * Yield consecutive `size`-byte buffers read from `stream`. Each yielded buffer is fresh (the
 * consumer may keep it). Breaking out of the loop destroys the stream.
 * @throws PartialFrameError when the stream ends with a partial frame.
 */
export async function* readFixedSizeChunks(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let current = Buffer.allocUnsafeSlow(size);
  let filled = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(size - filled, chunk.length - offset);
      chunk.copy(current, filled, offset, offset + take);
      filled += take;
      offset += take;
      if (filled === size) {
        yield current;
        current = Buffer.allocUnsafeSlow(size);
        filled = 0;
      }
    }
  }
  if (filled !== 0) throw new PartialFrameError(filled, size);
}
