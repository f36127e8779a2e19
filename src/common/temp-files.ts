import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { asDomainError, PayloadTooLargeError } from './errors';
import { idleTimeout } from './idle-timeout';

/** Scratch files under the state folder: uploads on their way into the lake, Parquet being built. */
export class TempFiles {
  constructor(
    private readonly dir: string,
    /** A request body that stalls this long fails with 408 (see idleTimeout). */
    private readonly idleMs = 30_000,
  ) {}

  async path(extension: string): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    return join(this.dir, `${randomUUID()}${extension}`);
  }

  /** A new temp file holding `text`. */
  async write(extension: string, text: string): Promise<string> {
    const path = await this.path(extension);
    try {
      await writeFile(path, text);
    } catch (error) {
      await this.remove(path);
      throw withPath(error, path);
    }
    return path;
  }

  /** Streams `body` to a new temp file, failing with 413 past `maxBytes` and 408 when it stalls, leaving nothing. */
  async fromStream(body: Readable, extension: string, maxBytes: number): Promise<string> {
    const path = await this.path(extension);
    let bytes = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(bytes > maxBytes ? new PayloadTooLargeError(`upload is larger than the limit of ${maxBytes} bytes`) : null, chunk);
      },
    });
    try {
      await pipeline(body, idleTimeout(this.idleMs), limit, createWriteStream(path));
      return path;
    } catch (error) {
      await this.remove(path);
      throw withPath(error, path);
    }
  }

  /** A temp copy of a file (so that a stream can delete it without touching the original). */
  async copyOf(path: string, extension: string): Promise<string> {
    const copy = await this.path(extension);
    await copyFile(path, copy);
    return copy;
  }

  async sha256(path: string): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(path), hash);
    return hash.digest('hex');
  }

  async size(path: string): Promise<number> {
    return (await stat(path)).size;
  }

  async remove(...paths: string[]): Promise<void> {
    await Promise.all(paths.map((p) => rm(p, { force: true })));
  }
}

/** Opens a temp file for reading and deletes it once the stream closes (sent, failed or aborted). */
export function readOnceAndDelete(path: string): Readable {
  const stream = createReadStream(path);
  stream.on('close', () => void rm(path, { force: true }));
  return stream;
}

/** A write that failed for want of space says where (write(2) errors carry no path): STORAGE_FULL names it. */
function withPath(error: unknown, path: string): unknown {
  const errno = error as NodeJS.ErrnoException;
  if (errno?.code === 'ENOSPC' && !errno.path) errno.path = path;
  return asDomainError(error);
}
