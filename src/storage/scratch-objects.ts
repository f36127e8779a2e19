import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { TempFiles } from '../common/temp-files';
import { ObjectStore } from './object-store';

/** Where files in transit between a server and a worker live in the lake (never read as lake data). */
export const SCRATCH_PREFIX = 'scratch/';

/**
 * Files handed between processes through the lake: an upload a server received for a worker to
 * read, a result a worker computed for a server to stream back. Each is read once and deleted
 * then; one whose reader died stays under `scratch/` (a GC may remove what is older than a day).
 */
@Injectable()
export class ScratchObjects {
  constructor(
    private readonly store: ObjectStore,
    private readonly temp: TempFiles,
  ) {}

  /** Puts a local file in the lake; resolves with its key. */
  async put(kind: 'uploads' | 'results', path: string, extension: string): Promise<string> {
    const key = `${SCRATCH_PREFIX}${kind}/${randomUUID()}${extension}`;
    await this.store.putFile(key, path);
    return key;
  }

  /** A local temp copy of `key` (the caller removes it); the object stays until `remove`. */
  async fetch(key: string, extension: string): Promise<string> {
    return this.temp.fromStream(await this.store.read(key), extension, Number.MAX_SAFE_INTEGER);
  }

  /** The object as a stream that deletes it once read (or abandoned). */
  async take(key: string): Promise<Readable> {
    const stream = await this.store.read(key);
    stream.once('close', () => void this.remove(key));
    return stream;
  }

  async remove(key: string): Promise<void> {
    await this.store.delete([key]).catch(() => undefined);
  }
}
