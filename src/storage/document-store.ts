import { Inject, Injectable } from '@nestjs/common';
import { LakeUnavailableError } from '../common/errors';
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

  /**
   * The document, or null. Some S3-compatible stores (s3rver, some gateways) do not replace an
   * object atomically, so a read racing a replacement can return a prefix of the new text: a
   * document that does not parse is read again a few times before it counts as damaged.
   */
  async get<T>(key: string): Promise<T | null> {
    for (let attempt = 1; ; attempt++) {
      const body = await this.store.get(key);
      if (!body) return null;
      try {
        return decode<T>(body.toString('utf8'));
      } catch (error) {
        if (attempt >= TORN_READ_ATTEMPTS) throw new LakeUnavailableError(`${this.store.location}/${key} is not a valid JSON document: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      }
    }
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

const TORN_READ_ATTEMPTS = 5;

export function encode(document: unknown): string {
  return JSON.stringify(document, (_key, value: unknown) => (typeof value === 'bigint' ? { $bigint: value.toString() } : value), 1);
}

export function decode<T>(text: string): T {
  return JSON.parse(text, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && '$bigint' in (value as object) ? BigInt((value as { $bigint: string }).$bigint) : value,
  ) as T;
}
