import { Inject, Injectable } from '@nestjs/common';
import { ObjectStore } from './object-store';

/**
 * JSON documents in the lake: one object per document, under a key featurelake generates. The
 * one place that turns lake objects into values and back, for every capability that keeps
 * single documents there (training-set metadata, skew results, job records, idempotency
 * records). bigint values (microsecond times) survive the round trip as `{ "$bigint": "…" }`.
 */
@Injectable()
export class DocumentStore {
  constructor(@Inject(ObjectStore) private readonly store: ObjectStore) {}

  async get<T>(key: string): Promise<T | null> {
    const body = await this.store.get(key);
    return body ? decode<T>(body.toString('utf8')) : null;
  }

  /** Writes (or replaces) the document; readers see the old or the new one, never a mix. */
  async put(key: string, document: unknown): Promise<void> {
    await this.store.put(key, encode(document));
  }

  /** Creates the document only when none exists at `key` (atomic across processes); false when one does. */
  async create(key: string, document: unknown): Promise<boolean> {
    return this.store.putIfAbsent(key, encode(document));
  }

  async delete(keys: string[]): Promise<void> {
    await this.store.delete(keys);
  }

  /** Keys of the documents below `prefix`, ascending. */
  async keys(prefix: string): Promise<string[]> {
    return this.store.list(prefix);
  }

  /** Names of the sub-folders of `prefix`. */
  async folders(prefix: string): Promise<string[]> {
    return this.store.listFolders(prefix);
  }
}

export function encode(document: unknown): string {
  return JSON.stringify(document, (_key, value: unknown) => (typeof value === 'bigint' ? { $bigint: value.toString() } : value), 1);
}

export function decode<T>(text: string): T {
  return JSON.parse(text, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && '$bigint' in (value as object) ? BigInt((value as { $bigint: string }).$bigint) : value,
  ) as T;
}
